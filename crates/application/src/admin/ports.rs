//! Ports of the platform administration.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{identity::UserId, sms::SmsStatus};
use uuid::Uuid;

use crate::{
    paging::{Page, PageRequest},
    store::StoreError,
};

/// Who presented which admin key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// No admin key is configured: the admin API is closed.
    Disabled,
    /// No key was presented.
    Missing,
    /// The key matches none of the configured keys.
    Wrong,
    /// The key matches; the fingerprint names it in the audit log without revealing it.
    Accepted {
        /// A short, non-reversible fingerprint of the key.
        fingerprint: String,
    },
}

/// The configured admin keys (several while a key is rotated).
pub trait AdminKeyring: Send + Sync {
    /// Compares `presented` with every configured key in constant time.
    fn check(&self, presented: Option<&str>) -> KeyCheck;
}

/// How an audited call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditOutcome {
    /// It did what was asked.
    Success,
    /// The caller was not allowed (a missing or wrong admin key).
    Refused,
    /// A dependency failed, or the target did not exist.
    Failed,
    /// The request itself was malformed.
    Invalid,
}

impl AuditOutcome {
    /// Every outcome.
    pub const ALL: [Self; 4] = [Self::Success, Self::Refused, Self::Failed, Self::Invalid];

    /// Its name in the audit log and the API.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Refused => "refused",
            Self::Failed => "failed",
            Self::Invalid => "invalid",
        }
    }

    /// The outcome named `name`, if any.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == name)
    }
}

/// One line of the admin audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: Uuid,
    /// The key fingerprint, or `unknown` for a refused call.
    pub actor: String,
    /// What was attempted (`tenants.create`, ...).
    pub action: String,
    /// What it was done to.
    pub target: Option<String>,
    /// The value before.
    pub old: Option<serde_json::Value>,
    /// The value after.
    pub new: Option<serde_json::Value>,
    /// How it ended.
    pub outcome: AuditOutcome,
    pub created_at: DateTime<Utc>,
}

/// The admin audit log: append and read.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends an entry.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// Entries, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn list(&self, page: PageRequest) -> Result<Page<AuditEntry>, StoreError>;
}

/// Which SMS-log entries the platform administrator asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsLogFilter {
    /// Only entries with this status.
    pub status: Option<SmsStatus>,
    /// Only texts to this account.
    pub user_id: Option<UserId>,
    /// Only entries made at or after this moment.
    pub since: Option<DateTime<Utc>>,
}

/// One entry of the SMS log, as the platform administrator reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsLogEntry {
    pub id: Uuid,
    /// The recipient's account, when a user.
    pub user_id: Option<UserId>,
    /// The recipient's number, masked (`+1415***2671`).
    pub to_masked: String,
    /// The text (kept 90 days).
    pub body: Option<String>,
    /// Its status.
    pub status: SmsStatus,
    /// The provider's id of the message.
    pub provider_message_id: Option<String>,
    /// The provider's (or our: `cap`) error code.
    pub error_code: Option<String>,
    /// Retries made.
    pub retry_count: u32,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
    /// When the provider took it.
    pub sent_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it failed.
    pub failed_at: Option<DateTime<Utc>>,
}

/// The SMS log, read by the platform administrator.
#[async_trait]
pub trait SmsLogQueries: Send + Sync {
    /// Entries matching `filter`, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn list(
        &self,
        filter: &SmsLogFilter,
        page: PageRequest,
    ) -> Result<Page<SmsLogEntry>, StoreError>;
}
