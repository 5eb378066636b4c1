//! Feature flags: switches operators flip at runtime, read by use cases on every call.

/// A feature that can be switched off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// Garden analysis findings.
    RuleEngine,
    /// Refusing restricted crops (off: record only).
    ComplianceEnforcement,
    /// Replies from the chat model (off: templates).
    AiChat,
    /// The reminders worker.
    SmsReminders,
}

/// The current value of each flag. Reads are cheap and never fail: an implementation answers
/// from memory.
pub trait FeatureFlags: Send + Sync {
    /// Whether `flag` is on.
    fn is_enabled(&self, flag: Flag) -> bool;
}
