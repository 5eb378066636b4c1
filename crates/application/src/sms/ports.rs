//! The port text messages leave through.

use async_trait::async_trait;
use domain::{
    phone::PhoneNumber,
    sms::{SmsBody, SmsStatus},
};

/// A text message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    /// The recipient.
    pub to: PhoneNumber,
    /// The text.
    pub body: SmsBody,
    /// Where the provider reports delivery, when it should.
    pub status_callback: Option<String>,
}

/// What the provider did with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    /// The provider's id of the message (Twilio's SID); `None` in demo mode.
    pub provider_message_id: Option<String>,
    /// `queued` or `sent` from a provider, `demo` without one.
    pub status: SmsStatus,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendSmsError {
    /// The provider refused this message for good (bad number, unsubscribed recipient, bad
    /// credentials): sending it again will not help.
    #[error("the SMS provider refused the message: {message}")]
    Rejected {
        /// The provider's error code (Twilio's numeric code).
        code: Option<String>,
        /// The provider's explanation.
        message: String,
    },
    /// The provider could not be reached or failed: worth a retry later.
    #[error("the SMS provider is unavailable: {0}")]
    Unavailable(String),
}

/// A provider of text messages.
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Hands `sms` to the provider.
    ///
    /// # Errors
    /// [`SendSmsError`] says whether a retry may help.
    async fn send(&self, sms: &OutgoingSms) -> Result<SentSms, SendSmsError>;
}
