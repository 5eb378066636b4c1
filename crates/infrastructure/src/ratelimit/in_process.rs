use std::{
    collections::HashMap,
    hash::{BuildHasher as _, RandomState},
    sync::{Mutex, MutexGuard},
};

use application::ratelimit::{Cell, LimiterUnavailable, RateLimitStore};
use async_trait::async_trait;
use domain::ratelimit::{Admission, admit};

/// Independent parts of the store, each behind its own lock, so one request never holds or scans
/// the whole store.
const SHARDS: usize = 64;
/// Keys one shard holds before it forgets keys whose quota is whole again (a TAT in the past);
/// 64 × 4096 keys in all, a few tens of MiB at most.
const SHARD_CAPACITY: usize = 4096;

/// Rate-limit state in this process's memory: bounded, sharded, all-or-nothing per request.
#[derive(Debug)]
pub struct InProcessRateLimitStore {
    shards: Vec<Mutex<HashMap<String, i64>>>,
    hasher: RandomState,
}

impl Default for InProcessRateLimitStore {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl InProcessRateLimitStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many keys the store holds (for tests and diagnostics; takes each shard's lock in
    /// turn).
    #[must_use]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().map_or(0, |keys| keys.len()))
            .sum()
    }

    /// Whether the store holds no key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard_of(&self, key: &str) -> usize {
        usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0)
    }
}

/// Makes room in a full shard: first the keys whose quota is whole again, then, when every
/// key is still live (a flood of distinct keys), the one closest to being whole.
fn make_room(keys: &mut HashMap<String, i64>, now_ms: i64) {
    if keys.len() < SHARD_CAPACITY {
        return;
    }
    keys.retain(|_, tat| *tat > now_ms);
    if keys.len() >= SHARD_CAPACITY
        && let Some(oldest) = keys
            .iter()
            .min_by_key(|(_, tat)| **tat)
            .map(|(key, _)| key.clone())
    {
        keys.remove(&oldest);
    }
}

#[async_trait]
impl RateLimitStore for InProcessRateLimitStore {
    async fn admit_all(
        &self,
        cells: &[Cell<'_>],
        now_ms: i64,
    ) -> Result<Vec<Admission>, LimiterUnavailable> {
        // Lock every shard involved, in index order (so two requests never wait on each other
        // in a cycle), and judge the request against all its keys at once.
        let mut indices: Vec<usize> = cells.iter().map(|cell| self.shard_of(cell.key)).collect();
        let cell_shards = indices.clone();
        indices.sort_unstable();
        indices.dedup();
        let mut guards: Vec<(usize, MutexGuard<'_, HashMap<String, i64>>)> = Vec::new();
        for index in indices {
            let guard = self.shards[index]
                .lock()
                .map_err(|_| LimiterUnavailable("the in-process store is poisoned".to_owned()))?;
            guards.push((index, guard));
        }
        let shard = |guards: &[(usize, MutexGuard<'_, HashMap<String, i64>>)], index: usize| {
            guards.iter().position(|(held, _)| *held == index)
        };
        let admissions: Vec<Admission> = cells
            .iter()
            .zip(&cell_shards)
            .map(|(cell, index)| {
                let tat = shard(&guards, *index)
                    .and_then(|position| guards[position].1.get(cell.key).copied());
                admit(tat, now_ms, cell.quota)
            })
            .collect();
        if admissions.iter().all(|admission| admission.allowed) {
            for ((cell, index), admission) in cells.iter().zip(&cell_shards).zip(&admissions) {
                if !cell.charge {
                    continue;
                }
                if let Some(position) = shard(&guards, *index) {
                    let keys = &mut guards[position].1;
                    if !keys.contains_key(cell.key) {
                        make_room(keys, now_ms);
                    }
                    keys.insert(cell.key.to_owned(), admission.tat_ms);
                }
            }
        }
        Ok(admissions)
    }

    async fn refund(&self, cells: &[Cell<'_>], now_ms: i64) -> Result<(), LimiterUnavailable> {
        for cell in cells {
            let mut keys = self.shards[self.shard_of(cell.key)]
                .lock()
                .map_err(|_| LimiterUnavailable("the in-process store is poisoned".to_owned()))?;
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

    const TEN_PER_MINUTE: Quota = Quota {
        limit: 10,
        window_secs: 60,
    };

    fn cell(key: &str) -> Cell<'_> {
        Cell {
            key,
            quota: TEN_PER_MINUTE,
            charge: true,
        }
    }

    #[tokio::test]
    async fn a_refused_request_creates_and_charges_no_key() {
        let store = InProcessRateLimitStore::new();
        for _ in 0..10 {
            store.admit_all(&[cell("ip")], 0).await.unwrap();
        }

        for n in 0..1000 {
            let account = format!("account-{n}");
            let admissions = store
                .admit_all(&[cell("ip"), cell(&account)], 0)
                .await
                .unwrap();
            assert!(!admissions[0].allowed);
            assert!(admissions[1].allowed, "the account alone had room");
        }

        assert_eq!(store.len(), 1, "only the address's key");
    }

    #[tokio::test]
    async fn a_flood_of_distinct_keys_stays_within_the_bound() {
        let store = InProcessRateLimitStore::new();
        for n in 0..(SHARDS * SHARD_CAPACITY + 1_000) {
            store
                .admit_all(&[cell(&format!("key-{n}"))], 0)
                .await
                .unwrap();
        }

        assert!(store.len() <= SHARDS * SHARD_CAPACITY);
    }

    #[tokio::test]
    async fn uncharged_cells_are_judged_but_not_written() {
        let store = InProcessRateLimitStore::new();
        let peek = Cell {
            charge: false,
            ..cell("account")
        };
        for _ in 0..50 {
            assert!(store.admit_all(&[peek], 0).await.unwrap()[0].allowed);
        }
        assert!(store.is_empty());
    }
}
