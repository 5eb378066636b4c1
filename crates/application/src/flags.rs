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

impl Flag {
    /// Every flag.
    pub const ALL: [Self; 4] = [
        Self::RuleEngine,
        Self::ComplianceEnforcement,
        Self::AiChat,
        Self::SmsReminders,
    ];

    /// The flag's public name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RuleEngine => "rule_engine",
            Self::ComplianceEnforcement => "compliance_enforcement",
            Self::AiChat => "ai_chat",
            Self::SmsReminders => "sms_reminders",
        }
    }
}

/// The current value of each flag. Reads are cheap and never fail: an implementation answers
/// from memory.
pub trait FeatureFlags: Send + Sync {
    /// Whether `flag` is on.
    fn is_enabled(&self, flag: Flag) -> bool;
}
