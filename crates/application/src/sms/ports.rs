//! The ports of the SMS channel: the provider, the SMS log, inbound deduplication, accounts by
//! phone number and the reminder schedule.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    identity::UserId,
    phone::PhoneNumber,
    plants::UserPlantId,
    sms::{SmsBody, SmsLogId, SmsStatus, verification::VerificationCode},
};

use crate::{plants::Owner, store::StoreError};

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
    /// The number messages are sent from, as the SMS log records it (`demo` without a provider).
    fn sender_number(&self) -> &str;

    /// Hands `sms` to the provider.
    ///
    /// # Errors
    /// [`SendSmsError`] says whether a retry may help.
    async fn send(&self, sms: &OutgoingSms) -> Result<SentSms, SendSmsError>;
}

/// An SMS about to be handed to the provider: logged as `pending` first, so that nothing sent is
/// ever missing from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSms {
    /// The entry's id.
    pub id: SmsLogId,
    /// The recipient's tenant and account, when the recipient is a user.
    pub owner: Option<Owner>,
    /// The recipient.
    pub to: PhoneNumber,
    /// The sending number (`demo` without a provider).
    pub from: String,
    /// The text.
    pub body: SmsBody,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
}

/// What became of one attempt to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The provider took the message (or demo mode logged it).
    Accepted {
        /// `queued`, `sent` or `demo`.
        status: SmsStatus,
        /// The provider's id of the message.
        provider_message_id: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The attempt failed.
    Failed {
        /// The provider's error code.
        code: Option<String>,
        /// What went wrong.
        message: String,
        /// When.
        at: DateTime<Utc>,
        /// When to try again; `None` when retrying cannot help or the retries are spent.
        next_retry_at: Option<DateTime<Utc>>,
    },
}

/// A failed message due for another attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryableSms {
    /// The entry.
    pub id: SmsLogId,
    /// The recipient's account, when a user (for the daily caps).
    pub account: Option<UserId>,
    /// The recipient.
    pub to: PhoneNumber,
    /// The text.
    pub body: SmsBody,
    /// Retries made so far.
    pub retry_count: u32,
}

/// A delivery report to apply to the entry of a provider message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The status the entry had when read.
    pub from: SmsStatus,
    /// The status it moves to.
    pub to: SmsStatus,
    /// The provider's error code, for `undelivered` and `failed`.
    pub error_code: Option<String>,
    /// When the report arrived.
    pub at: DateTime<Utc>,
}

/// The SMS log: every message sent, its attempts and its delivery.
#[async_trait]
pub trait SmsLog: Send + Sync {
    /// Writes a `pending` entry.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn record_pending(&self, sms: &PendingSms) -> Result<(), StoreError>;

    /// Writes the outcome of an attempt: status and provider id (setting `sent_at`), or the error
    /// (setting `failed_at` and when to retry).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn record_outcome(&self, id: SmsLogId, outcome: &SendOutcome) -> Result<(), StoreError>;

    /// How many texts were handed to the provider (or logged in demo mode) since `since`: to
    /// `account` (when given), to `to`, and in all.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn sent_since(
        &self,
        account: Option<UserId>,
        to: &PhoneNumber,
        since: DateTime<Utc>,
    ) -> Result<SentCounts, StoreError>;

    /// Failed entries whose next attempt is due at `now`, oldest first, at most `limit`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn due_for_retry(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<RetryableSms>, StoreError>;

    /// Takes a due entry for one retry: it becomes `pending` again with one more retry counted
    /// and `last_retry_at = now`, but only while it is still `failed` with `retry_count` retries,
    /// so that of several workers exactly one gets it. `true` for the one that did.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn claim_retry(
        &self,
        id: SmsLogId,
        retry_count: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The entry of a provider message and its status.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> Result<Option<(SmsLogId, SmsStatus)>, StoreError>;

    /// Applies `change` (and `delivered_at`/`failed_at`) only while the entry still has status
    /// `change.from`; `false` when it moved meanwhile.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn change_status(&self, id: SmsLogId, change: &StatusChange) -> Result<bool, StoreError>;
}

/// What the inbound log knows of a provider message id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundClaim {
    /// First delivery: the caller processes it.
    First,
    /// Processed before; this was the answer.
    Answered(String),
    /// Another delivery of it is being processed right now.
    InProgress,
}

/// The inbound messages already received, so that a message the provider delivers twice is
/// processed once.
#[async_trait]
pub trait InboundSmsLog: Send + Sync {
    /// Records the arrival of `message_sid` unless it arrived before, atomically.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn claim(
        &self,
        message_sid: &str,
        sender: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<InboundClaim, StoreError>;

    /// Stores the answer given to `message_sid`, for later deliveries of it.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn answered(&self, message_sid: &str, reply: &str) -> Result<(), StoreError>;

    /// Forgets the arrival of `message_sid` while it has no answer, so that the provider's
    /// retry of a message whose processing failed is processed again.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn release(&self, message_sid: &str) -> Result<(), StoreError>;
}

/// An account that texts: who owns a phone number, and whether it wants texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsAccount {
    /// The account.
    pub owner: Owner,
    /// Whether it agreed to receive texts.
    pub sms_opt_in: bool,
}

/// Accounts by phone number (unique across the platform).
#[async_trait]
pub trait SmsAccounts: Send + Sync {
    /// The active account that verified this phone number.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find_by_phone(&self, phone: &PhoneNumber) -> Result<Option<SmsAccount>, StoreError>;

    /// Records the account's consent to texts.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn set_sms_opt_in(
        &self,
        owner: Owner,
        opt_in: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// A plant whose watering reminder is due, with what the text needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminder {
    /// The owner.
    pub owner: Owner,
    /// The owner's phone.
    pub phone: PhoneNumber,
    /// The plant.
    pub plant_id: UserPlantId,
}

/// The reminder schedule.
#[async_trait]
pub trait ReminderQueue: Send + Sync {
    /// Takes up to `limit` plants whose reminder is due at `now` (active plant, owner active,
    /// opted in and with a phone) and, in the same transaction, moves each one's next reminder to
    /// [`domain::plants::next_watering`] from `now` by its species' interval. Rows are locked
    /// and locked rows skipped, so concurrent callers never take the same plant.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; nothing is taken then.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<DueReminder>, StoreError>;
}

/// A verification code to keep (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVerification {
    /// Its id.
    pub id: uuid::Uuid,
    /// The account.
    pub user_id: UserId,
    /// The number it was sent to.
    pub phone: PhoneNumber,
    /// The code.
    pub code: VerificationCode,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// How a code presented for a number fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// It matched the number's newest live code, which is now used.
    Confirmed,
    /// It did not match; the try was counted.
    Wrong,
    /// The number has no live code: none sent, used, expired, or its tries are spent.
    NoLiveCode,
}

/// The verification codes sent to numbers.
#[async_trait]
pub trait VerificationCodes: Send + Sync {
    /// A new random code.
    fn generate(&self) -> VerificationCode;

    /// When codes were sent to the account, or to the number, since `since` (both counted).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn sent_since(
        &self,
        user: UserId,
        phone: &PhoneNumber,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError>;

    /// Keeps a code (hashed).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn store(&self, verification: &NewVerification) -> Result<(), StoreError>;

    /// Tries `code` against the newest live code the account has for `phone`: a try is counted
    /// first — atomically, so concurrent guesses never exceed `tries` in all — then the code is
    /// compared in constant time and, when it matches, used up.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn try_code(
        &self,
        user: UserId,
        phone: &PhoneNumber,
        code: &VerificationCode,
        now: DateTime<Utc>,
        tries: u32,
    ) -> Result<CodeCheck, StoreError>;
}

/// How many texts went out since a moment, for the daily caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SentCounts {
    /// To the account.
    pub to_account: u64,
    /// To the number.
    pub to_number: u64,
    /// By the whole platform.
    pub platform: u64,
}
