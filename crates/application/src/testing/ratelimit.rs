//! The shared rate-limit store in memory.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use domain::ratelimit::{Admission, admit};

use super::{Outage, lock};
use crate::ratelimit::{Cell, LimiterUnavailable, RateLimitStore};

/// In-memory [`RateLimitStore`]: one TAT per key, judged with the domain's GCRA, all or nothing
/// per request (a refused request changes no key and creates none; an uncharged cell is only
/// judged), and a refund moves a key back one interval, dropping it once whole. While the
/// outage lasts every call answers [`LimiterUnavailable`], as an unreachable Redis does.
/// Clones share the keys.
#[derive(Debug, Clone, Default)]
pub struct InMemoryRateLimitStore {
    outage: Outage,
    keys: Arc<Mutex<BTreeMap<String, i64>>>,
}

impl InMemoryRateLimitStore {
    /// An empty store, unreachable while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            keys: Arc::default(),
        }
    }

    /// The TAT of `key`, in Unix milliseconds, if the key exists.
    #[must_use]
    pub fn tat(&self, key: &str) -> Option<i64> {
        lock(&self.keys).get(key).copied()
    }

    /// Sets the TAT of `key`, to start a test with a spent quota.
    pub fn set_tat(&self, key: &str, tat_ms: i64) {
        lock(&self.keys).insert(key.to_owned(), tat_ms);
    }

    /// Every key, in order.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        lock(&self.keys).keys().cloned().collect()
    }

    /// How many keys are stored.
    #[must_use]
    pub fn len(&self) -> usize {
        lock(&self.keys).len()
    }

    /// Whether no key is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn reachable(&self) -> Result<(), LimiterUnavailable> {
        self.outage
            .check()
            .map_err(|error| LimiterUnavailable(error.to_string()))
    }
}

#[async_trait]
impl RateLimitStore for InMemoryRateLimitStore {
    async fn admit_all(
        &self,
        cells: &[Cell<'_>],
        now_ms: i64,
    ) -> Result<Vec<Admission>, LimiterUnavailable> {
        self.reachable()?;
        let mut keys = lock(&self.keys);
        let admissions: Vec<Admission> = cells
            .iter()
            .map(|cell| admit(keys.get(cell.key).copied(), now_ms, cell.quota))
            .collect();
        if admissions.iter().all(|admission| admission.allowed) {
            for (cell, admission) in cells.iter().zip(&admissions) {
                if cell.charge {
                    keys.insert(cell.key.to_owned(), admission.tat_ms);
                }
            }
        }
        Ok(admissions)
    }

    async fn refund(&self, cells: &[Cell<'_>], now_ms: i64) -> Result<(), LimiterUnavailable> {
        self.reachable()?;
        let mut keys = lock(&self.keys);
        for cell in cells {
            if let Some(tat) = keys.get(cell.key).copied() {
                let back = tat - cell.quota.interval_ms();
                if back > now_ms {
                    keys.insert(cell.key.to_owned(), back);
                } else {
                    keys.remove(cell.key);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use domain::ratelimit::Quota;

    use super::*;

    const TWO_PER_MINUTE: Quota = Quota {
        limit: 2,
        window_secs: 60,
    };

    fn cell(key: &str) -> Cell<'_> {
        Cell {
            key,
            quota: TWO_PER_MINUTE,
            charge: true,
        }
    }

    #[tokio::test]
    async fn a_request_refused_by_one_key_charges_none() {
        let store = InMemoryRateLimitStore::new(Outage::default());
        for _ in 0..2 {
            assert!(store.admit_all(&[cell("ip")], 0).await.unwrap()[0].allowed);
        }
        let admissions = store
            .admit_all(&[cell("ip"), cell("account")], 0)
            .await
            .unwrap();
        assert!(!admissions[0].allowed);
        assert!(admissions[1].allowed);
        assert_eq!(store.keys(), ["ip"], "the account's key was not created");
        store.refund(&[cell("ip")], 0).await.unwrap();
        assert_eq!(store.tat("ip"), Some(30_000));
    }

    #[tokio::test]
    async fn an_outage_makes_the_store_unavailable() {
        let outage = Outage::default();
        let store = InMemoryRateLimitStore::new(outage.clone());
        outage.begin();
        assert!(store.admit_all(&[cell("ip")], 0).await.is_err());
    }
}
