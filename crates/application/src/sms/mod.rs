//! The SMS channel: sending texts through a provider with a complete log and retries, delivery
//! reports, texts from owners, and watering reminders.

pub mod inbound;
pub mod outbox;
pub mod ports;
pub mod reminders;
pub mod verification;
pub mod webhooks;

pub use inbound::{InboundPorts, InboundSmsError, InboundTexts, IncomingSms};
pub use outbox::{SmsCaps, SmsLogError, SmsOutbox, SmsOutboxPorts};
pub use ports::ReminderTexts;
pub use ports::{OutgoingSms, SendSmsError, SentSms, SmsSender};
pub use reminders::{ReminderError, ReminderPorts, Reminders};
pub use verification::{
    CodeSent, ConfirmPhoneError, PhoneVerification, PhoneVerificationPorts, RequestCodeError,
};
pub use webhooks::{SignatureVerifier, SignedRequest, WebhookGate, WebhookRefused};
