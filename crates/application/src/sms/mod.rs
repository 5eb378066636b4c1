//! The SMS channel: sending text messages through a provider.

pub mod ports;

pub use ports::{OutgoingSms, SendSmsError, SentSms, SmsSender};
