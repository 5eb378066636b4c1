//! Idempotency records in memory, with the database's claim rules.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::identity::UserId;

use super::{Outage, lock};
use crate::{
    idempotency::{IdempotencyStore, KeyClaim, StoredResponse},
    store::StoreError,
};

/// One stored key, as a test inspects it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The hash of the request that claimed the key.
    pub request_hash: String,
    /// The response, once the request completed; `None` while it is in progress.
    pub response: Option<StoredResponse>,
    /// When the key was claimed.
    pub created_at: DateTime<Utc>,
    /// When the record stops counting.
    pub expires_at: DateTime<Utc>,
}

/// In-memory [`IdempotencyStore`] keyed by user and key, as the real table is: a claim is
/// atomic; an expired record, or one in progress since before `stale_before`, is taken over;
/// a completed key answers its response to the same request and `Mismatch` to another; one in
/// progress answers `InProgress` whatever the body; `release` forgets only a claim still in
/// progress. Clones share the records.
#[derive(Debug, Clone, Default)]
pub struct InMemoryIdempotencyStore {
    outage: Outage,
    records: Arc<Mutex<BTreeMap<(UserId, String), IdempotencyRecord>>>,
}

impl InMemoryIdempotencyStore {
    /// An empty store, down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            records: Arc::default(),
        }
    }

    /// Stores `record` for `user`'s `key` as it is.
    pub fn insert(&self, user: UserId, key: &str, record: IdempotencyRecord) {
        lock(&self.records).insert((user, key.to_owned()), record);
    }

    /// The record of `user`'s `key`.
    #[must_use]
    pub fn get(&self, user: UserId, key: &str) -> Option<IdempotencyRecord> {
        lock(&self.records).get(&(user, key.to_owned())).cloned()
    }

    /// How many keys are stored.
    #[must_use]
    pub fn len(&self) -> usize {
        lock(&self.records).len()
    }

    /// Whether no key is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Deletes the keys claimed before `before`, as the retention job does, and answers how
    /// many went.
    pub fn purge_created_before(&self, before: DateTime<Utc>) -> u64 {
        let mut records = lock(&self.records);
        let count = records.len();
        records.retain(|_, record| record.created_at >= before);
        u64::try_from(count - records.len()).unwrap_or(u64::MAX)
    }

    /// Deletes every key of `user`, as erasing the account does (the rows cascade from it).
    pub fn forget_user(&self, user: UserId) {
        lock(&self.records).retain(|(owner, _), _| *owner != user);
    }
}

#[async_trait]
impl IdempotencyStore for InMemoryIdempotencyStore {
    async fn claim(
        &self,
        user: UserId,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<KeyClaim, StoreError> {
        self.outage.check()?;
        let mut records = lock(&self.records);
        let claimed = IdempotencyRecord {
            request_hash: request_hash.to_owned(),
            response: None,
            created_at: now,
            expires_at,
        };
        let id = (user, key.to_owned());
        let Some(record) = records.get(&id) else {
            records.insert(id, claimed);
            return Ok(KeyClaim::Claimed);
        };
        let abandoned = record.response.is_none() && record.created_at <= stale_before;
        if record.expires_at <= now || abandoned {
            records.insert(id, claimed);
            return Ok(KeyClaim::Claimed);
        }
        Ok(match &record.response {
            None => KeyClaim::InProgress,
            Some(_) if record.request_hash != request_hash => KeyClaim::Mismatch,
            Some(response) => KeyClaim::Completed(response.clone()),
        })
    }

    async fn complete(
        &self,
        user: UserId,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        self.outage.check()?;
        if let Some(record) = lock(&self.records).get_mut(&(user, key.to_owned())) {
            record.response = Some(response.clone());
        }
        Ok(())
    }

    async fn release(&self, user: UserId, key: &str) -> Result<(), StoreError> {
        self.outage.check()?;
        let mut records = lock(&self.records);
        let id = (user, key.to_owned());
        if records
            .get(&id)
            .is_some_and(|record| record.response.is_none())
        {
            records.remove(&id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use uuid::Uuid;

    use super::*;
    use crate::testing::system::START;

    fn response() -> StoredResponse {
        StoredResponse {
            status: 201,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: b"{}".to_vec(),
        }
    }

    #[tokio::test]
    async fn a_completed_key_replays_for_its_request_and_refuses_another() {
        let store = InMemoryIdempotencyStore::new(Outage::default());
        let user = UserId::from_uuid(Uuid::from_u128(1));
        let (stale, expires) = (START - TimeDelta::minutes(1), START + TimeDelta::hours(24));
        let claim = |hash: &'static str| {
            let store = store.clone();
            async move {
                store
                    .claim(user, "k", hash, START, stale, expires)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(claim("a").await, KeyClaim::Claimed);
        assert_eq!(claim("a").await, KeyClaim::InProgress);
        store.complete(user, "k", &response()).await.unwrap();
        assert_eq!(claim("a").await, KeyClaim::Completed(response()));
        assert_eq!(claim("b").await, KeyClaim::Mismatch);
        store.release(user, "k").await.unwrap();
        assert!(
            store.get(user, "k").is_some(),
            "a completed key is not released"
        );
    }

    #[tokio::test]
    async fn a_claim_whose_request_died_is_taken_over() {
        let store = InMemoryIdempotencyStore::new(Outage::default());
        let user = UserId::from_uuid(Uuid::from_u128(1));
        let expires = START + TimeDelta::hours(24);
        let first = store
            .claim(
                user,
                "k",
                "a",
                START,
                START - TimeDelta::minutes(1),
                expires,
            )
            .await
            .unwrap();
        assert_eq!(first, KeyClaim::Claimed);
        let later = START + TimeDelta::minutes(5);
        let retry = store
            .claim(
                user,
                "k",
                "a",
                later,
                later - TimeDelta::minutes(1),
                expires,
            )
            .await
            .unwrap();
        assert_eq!(retry, KeyClaim::Claimed);
        assert_eq!(store.get(user, "k").unwrap().created_at, later);
    }
}
