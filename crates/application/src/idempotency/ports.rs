use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::identity::UserId;

use crate::store::StoreError;

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// Its HTTP status.
    pub status: u16,
    /// The headers that describe it (content type, location).
    pub headers: Vec<(String, String)>,
    /// Its body, byte for byte.
    pub body: Vec<u8>,
}

/// What the store knows of a key when a request with it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// The key is new (or its record expired or was abandoned): this request runs.
    Claimed,
    /// The first request with the key is still running.
    InProgress,
    /// The key was used for a request with another body.
    Mismatch,
    /// The first request finished: its response.
    Completed(StoredResponse),
}

/// Idempotency records, per user and key.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request hashing to `request_hash`, atomically: of concurrent
    /// requests with one key exactly one gets [`KeyClaim::Claimed`]. A record expired at `now`,
    /// or still in progress since before `stale_before` (its request died), is taken over.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn claim(
        &self,
        user: UserId,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<KeyClaim, StoreError>;

    /// Stores the response of the claimed request.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn complete(
        &self,
        user: UserId,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;

    /// Forgets a claim whose request failed, so that a retry runs again.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn release(&self, user: UserId, key: &str) -> Result<(), StoreError>;
}
