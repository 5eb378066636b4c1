use crate::{phone::PhoneNumber, wire::wire_names};

/// Why a text is sent, which decides who may receive it (SPEC §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsPurpose {
    /// A plant's watering reminder: only to a verified number whose holder opted in.
    Reminder,
    /// A phone-verification code: to the account's current number, verified or not (that is
    /// what the code is for).
    Verification,
    /// Any other text to an account: only to its verified number.
    Message,
}

wire_names!(SmsPurpose {
    Reminder => "reminder",
    Verification => "verification",
    Message => "message",
});

/// What the recipient's account says just before a text goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// Whether the account is active.
    pub is_active: bool,
    /// Its phone number now.
    pub phone: Option<PhoneNumber>,
    /// Whether its holder confirmed that number.
    pub phone_verified: bool,
    /// Whether it agreed to reminders.
    pub sms_opt_in: bool,
}

impl SmsPurpose {
    /// Whether a text for this purpose may still go to `to`, given what the account says now:
    /// `None` when it may, else why not. A number changed since the text was queued never gets
    /// it.
    #[must_use]
    pub fn refusal(self, recipient: Option<&Recipient>, to: &PhoneNumber) -> Option<&'static str> {
        let Some(recipient) = recipient.filter(|recipient| recipient.is_active) else {
            return Some("the account is gone or inactive");
        };
        if recipient.phone.as_ref() != Some(to) {
            return Some("the account's phone number changed");
        }
        match self {
            Self::Verification => None,
            _ if !recipient.phone_verified => Some("the number is not verified"),
            Self::Reminder if !recipient.sms_opt_in => Some("the account opted out of texts"),
            Self::Reminder | Self::Message => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> PhoneNumber {
        PhoneNumber::parse(text).unwrap()
    }

    fn holder(phone_verified: bool, sms_opt_in: bool) -> Recipient {
        Recipient {
            is_active: true,
            phone: Some(number("+14155552671")),
            phone_verified,
            sms_opt_in,
        }
    }

    #[test]
    fn a_reminder_needs_a_verified_number_and_consent() {
        let to = number("+14155552671");
        assert_eq!(
            SmsPurpose::Reminder.refusal(Some(&holder(true, true)), &to),
            None
        );
        assert!(
            SmsPurpose::Reminder
                .refusal(Some(&holder(false, true)), &to)
                .is_some()
        );
        assert!(
            SmsPurpose::Reminder
                .refusal(Some(&holder(true, false)), &to)
                .is_some()
        );
    }

    #[test]
    fn a_verification_code_goes_to_an_unverified_number_without_consent() {
        let to = number("+14155552671");
        assert_eq!(
            SmsPurpose::Verification.refusal(Some(&holder(false, false)), &to),
            None
        );
        assert!(
            SmsPurpose::Message
                .refusal(Some(&holder(false, true)), &to)
                .is_some()
        );
        assert_eq!(
            SmsPurpose::Message.refusal(Some(&holder(true, false)), &to),
            None
        );
    }

    #[test]
    fn nothing_goes_to_a_changed_number_or_an_inactive_account() {
        let old = number("+14155550000");
        assert!(
            SmsPurpose::Verification
                .refusal(Some(&holder(true, true)), &old)
                .is_some()
        );
        let inactive = Recipient {
            is_active: false,
            ..holder(true, true)
        };
        let to = number("+14155552671");
        assert!(SmsPurpose::Message.refusal(Some(&inactive), &to).is_some());
        assert!(SmsPurpose::Message.refusal(None, &to).is_some());
    }
}
