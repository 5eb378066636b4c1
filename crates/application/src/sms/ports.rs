//! The ports of the SMS channel: the provider, the SMS log, inbound deduplication, accounts by
//! phone number and the reminder schedule.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    identity::UserId,
    phone::PhoneNumber,
    plants::UserPlantId,
    sms::{Recipient, SmsBody, SmsLogId, SmsPurpose, SmsStatus, verification::VerificationCode},
};
use uuid::Uuid;

use crate::{failure::Failure, plants::Owner, store::StoreError};

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
    /// The provider could not be reached or failed before taking the message: worth a retry
    /// later.
    #[error("the SMS provider is unavailable: {0}")]
    Unavailable(String),
    /// The request reached the provider but its answer did not (a timeout after the request was
    /// written, an unreadable success): the message may have been taken, so it must be looked
    /// up, not sent again.
    #[error("the SMS provider's answer is unknown: {0}")]
    Unknown(String),
}

/// A provider of text messages.
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// The number messages are sent from, as the SMS log records it (`demo` without a provider).
    fn sender_number(&self) -> &str;

    /// Hands `sms` to the provider.
    ///
    /// # Errors
    /// [`SendSmsError`] says whether a retry may help, or whether the outcome is unknown.
    async fn send(&self, sms: &OutgoingSms) -> Result<SentSms, SendSmsError>;

    /// The messages the provider holds that were sent to `to` with exactly `body` on or after
    /// the day of `attempted_at`: how a send with an unknown outcome is settled. Empty without
    /// a provider.
    ///
    /// # Errors
    /// [`SendSmsError`] when the provider cannot be asked.
    async fn find_sent(
        &self,
        to: &PhoneNumber,
        body: &SmsBody,
        attempted_at: DateTime<Utc>,
    ) -> Result<Vec<SentSms>, SendSmsError>;
}

/// A worker's hold on pending messages: only the holder records their outcome, and a hold that
/// runs out lets another worker take them over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// Whose hold it is.
    pub token: Uuid,
    /// When it runs out.
    pub until: DateTime<Utc>,
}

/// A pending message a worker holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeasedSms {
    /// The entry.
    pub id: SmsLogId,
    /// The recipient's account, when a user.
    pub owner: Option<Owner>,
    /// The recipient.
    pub to: PhoneNumber,
    /// Why it is sent.
    pub purpose: SmsPurpose,
    /// The plant a reminder is about.
    pub plant: Option<UserPlantId>,
    /// The text; `None` for a reminder whose text is written when it is sent.
    pub body: Option<SmsBody>,
    /// When a previous holder called the provider with it, if one did.
    pub attempted_at: Option<DateTime<Utc>>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Retries made so far.
    pub retry_count: u32,
    /// The hold.
    pub lease: Lease,
}

/// A message whose send had an unknown outcome, due for a lookup at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsettledSms {
    /// The entry.
    pub id: SmsLogId,
    /// The recipient.
    pub to: PhoneNumber,
    /// The text sent.
    pub body: SmsBody,
    /// When the provider was called.
    pub attempted_at: DateTime<Utc>,
    /// Retries made so far.
    pub retry_count: u32,
}

/// Writes a plant's watering reminder into its conversation when the reminder is sent.
#[async_trait]
pub trait ReminderTexts: Send + Sync {
    /// Writes the reminder of `plant` into its conversation and answers the text to send;
    /// `None` when the plant is gone.
    ///
    /// # Errors
    /// [`Failure`] when the conversation cannot be written.
    async fn write_reminder(
        &self,
        owner: Owner,
        plant: UserPlantId,
    ) -> Result<Option<SmsBody>, Failure>;
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
    /// Why it is sent.
    pub purpose: SmsPurpose,
    /// The text.
    pub body: SmsBody,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
    /// The hold of the caller that sends it right away.
    pub lease: Lease,
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
        at: DateTime<Utc>,
    },
    /// The provider may or may not have taken the message; a lookup will tell.
    Unknown {
        /// What went wrong.
        message: String,
        at: DateTime<Utc>,
    },
    /// The attempt failed.
    Failed {
        /// The provider's error code.
        code: Option<String>,
        /// What went wrong.
        message: String,
        at: DateTime<Utc>,
        /// When to try again; `None` when retrying cannot help or the retries are spent.
        next_retry_at: Option<DateTime<Utc>>,
    },
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
    /// Writes a `pending` entry, held by `sms.lease`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn record_pending(&self, sms: &PendingSms) -> Result<(), StoreError>;

    /// Takes up to `limit` pending entries nobody holds (or whose hold ran out at `now`),
    /// oldest first, under `lease`: of several workers exactly one gets each.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn lease_pending(
        &self,
        now: DateTime<Utc>,
        lease: Lease,
        limit: u64,
    ) -> Result<Vec<LeasedSms>, StoreError>;

    /// Stores the text of a held entry written when it is sent; `false` when the hold is lost.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn write_body(
        &self,
        id: SmsLogId,
        lease: Lease,
        body: &SmsBody,
    ) -> Result<bool, StoreError>;

    /// Notes, before the provider is called, that it is about to be (`attempted_at = at`), so
    /// that whoever takes the entry over knows to look it up instead of sending it again, and
    /// renews the hold for the call; `false` when the hold is lost (the caller must not send
    /// then).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn mark_attempt(
        &self,
        id: SmsLogId,
        lease: Lease,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Writes the outcome of an attempt on a held entry and ends the hold: status and provider
    /// id (setting `sent_at`), `unknown`, or the error (setting `failed_at` and when to retry).
    /// `false` when the hold is lost.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn record_outcome(
        &self,
        id: SmsLogId,
        lease: Lease,
        outcome: &SendOutcome,
    ) -> Result<bool, StoreError>;

    /// How many texts were handed to the provider (or logged in demo mode, or may have been:
    /// `unknown`) since `since`: to `account` (when given), to `to`, and in all.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn sent_since(
        &self,
        account: Option<UserId>,
        to: &PhoneNumber,
        since: DateTime<Utc>,
    ) -> Result<SentCounts, StoreError>;

    /// Makes every failed entry whose retry is due at `now` pending again, with one more retry
    /// counted, for the outbox to send; the status changes atomically, so of several workers one
    /// requeues each. Returns how many.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn requeue_due_retries(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Entries with an `unknown` outcome whose attempt was made before `attempted_before`,
    /// oldest first, at most `limit`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn unsettled(
        &self,
        attempted_before: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<UnsettledSms>, StoreError>;

    /// Settles an `unknown` entry with what the provider says (or, when it never took the
    /// message, a failure due for a retry); `false` when it was settled meanwhile.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn settle(&self, id: SmsLogId, outcome: &SendOutcome) -> Result<bool, StoreError>;

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

    /// What the account says now about texting it (`None` once it is gone).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn recipient(&self, account: UserId) -> Result<Option<Recipient>, StoreError>;

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

/// The reminder schedule.
#[async_trait]
pub trait ReminderQueue: Send + Sync {
    /// Takes up to `limit` plants whose reminder is due at `now` (active plant, owner active,
    /// opted in and with a verified phone) and, in the same transaction, moves each one's next
    /// reminder to [`domain::plants::next_watering`] from `now` by its species' interval and
    /// writes its reminder as a `pending` SMS-log entry from `from` (purpose `reminder`, its text
    /// written when sent), so that a crash after the claim loses nothing. Rows are locked and
    /// locked rows skipped, so concurrent callers never take the same plant. Answers how many.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; nothing is taken then.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u64,
        from: &str,
    ) -> Result<u64, StoreError>;
}

/// A verification code to keep (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVerification {
    pub id: Uuid,
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
