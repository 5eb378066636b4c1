use std::sync::Arc;

use chrono::TimeDelta;
use domain::identity::UserId;

use super::ports::{IdempotencyStore, KeyClaim, StoredResponse};
use crate::{store::StoreError, system::Clock};

/// How long a response is replayed.
const KEPT_FOR: TimeDelta = TimeDelta::hours(24);
/// A claim older than this whose request never finished (the process died) is taken over.
const ABANDONED_AFTER: TimeDelta = TimeDelta::minutes(15);

/// An `Idempotency-Key` header: 1-255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// Why a text is not an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 255 visible ASCII characters")]
pub struct InvalidIdempotencyKey;

impl IdempotencyKey {
    /// Checks `text`.
    ///
    /// # Errors
    /// [`InvalidIdempotencyKey`] when it is empty, longer than 255 characters or not visible
    /// ASCII.
    pub fn parse(text: &str) -> Result<Self, InvalidIdempotencyKey> {
        if (1..=255).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidIdempotencyKey)
        }
    }

    /// The key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The idempotency use cases.
#[derive(Clone)]
pub struct Idempotency {
    store: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency").finish_non_exhaustive()
    }
}

impl Idempotency {
    /// The use cases over `store`.
    #[must_use]
    pub fn new(store: Arc<dyn IdempotencyStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Claims `key` of `user` for a request hashing to `request_hash`; the answer says whether
    /// to run it, replay a response or refuse.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "idempotency.claim", skip_all, fields(user_id = %user))]
    pub async fn claim(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        request_hash: &str,
    ) -> Result<KeyClaim, StoreError> {
        let now = self.clock.now();
        self.store
            .claim(
                user,
                key.as_str(),
                request_hash,
                now,
                now - ABANDONED_AFTER,
                now + KEPT_FOR,
            )
            .await
    }

    /// Keeps `response` for replay.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn complete(
        &self,
        user: UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        self.store.complete(user, key.as_str(), response).await
    }

    /// Forgets the claim of a request that failed.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn release(&self, user: UserId, key: &IdempotencyKey) -> Result<(), StoreError> {
        self.store.release(user, key.as_str()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_characters() {
        assert!(IdempotencyKey::parse("a").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse("0b6f6f8e-1a2b-4c3d-9e8f-001122334455").is_ok());
        assert_eq!(IdempotencyKey::parse(""), Err(InvalidIdempotencyKey));
        assert_eq!(
            IdempotencyKey::parse(&"k".repeat(256)),
            Err(InvalidIdempotencyKey)
        );
        assert_eq!(
            IdempotencyKey::parse("with space"),
            Err(InvalidIdempotencyKey)
        );
    }
}
