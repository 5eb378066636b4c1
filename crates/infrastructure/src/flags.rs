//! Feature flags held in process memory.

use std::sync::atomic::{AtomicBool, Ordering};

use application::flags::{FeatureFlags, Flag};

/// Flags in memory, starting from the configured values and switchable at runtime.
#[derive(Debug)]
pub struct InMemoryFlags {
    rule_engine: AtomicBool,
    compliance_enforcement: AtomicBool,
    ai_chat: AtomicBool,
    sms_reminders: AtomicBool,
}

impl InMemoryFlags {
    /// Flags with the values `initial` gives.
    #[must_use]
    pub fn new(initial: impl Fn(Flag) -> bool) -> Self {
        Self {
            rule_engine: AtomicBool::new(initial(Flag::RuleEngine)),
            compliance_enforcement: AtomicBool::new(initial(Flag::ComplianceEnforcement)),
            ai_chat: AtomicBool::new(initial(Flag::AiChat)),
            sms_reminders: AtomicBool::new(initial(Flag::SmsReminders)),
        }
    }

    const fn cell(&self, flag: Flag) -> &AtomicBool {
        match flag {
            Flag::RuleEngine => &self.rule_engine,
            Flag::ComplianceEnforcement => &self.compliance_enforcement,
            Flag::AiChat => &self.ai_chat,
            Flag::SmsReminders => &self.sms_reminders,
        }
    }
}

impl FeatureFlags for InMemoryFlags {
    fn is_enabled(&self, flag: Flag) -> bool {
        self.cell(flag).load(Ordering::Relaxed)
    }

    fn set(&self, flag: Flag, enabled: bool) {
        self.cell(flag).store(enabled, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_start_as_configured_and_can_be_switched() {
        let flags = InMemoryFlags::new(|flag| flag != Flag::AiChat);
        assert!(!flags.is_enabled(Flag::AiChat));
        assert!(flags.is_enabled(Flag::RuleEngine));
        flags.set(Flag::AiChat, true);
        assert!(flags.is_enabled(Flag::AiChat));
    }
}
