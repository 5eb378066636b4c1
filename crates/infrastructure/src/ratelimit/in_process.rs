use std::{collections::HashMap, sync::Mutex};

use application::ratelimit::{LimiterUnavailable, RateLimitStore};
use async_trait::async_trait;
use domain::ratelimit::{Admission, Quota, admit};

/// Keys this large make the store forget the keys whose quota is whole again.
const PRUNE_ABOVE: usize = 100_000;

/// Rate-limit state in this process's memory.
#[derive(Debug, Default)]
pub struct InProcessRateLimitStore {
    tats: Mutex<HashMap<String, i64>>,
}

impl InProcessRateLimitStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RateLimitStore for InProcessRateLimitStore {
    async fn admit(
        &self,
        key: &str,
        quota: Quota,
        now_ms: i64,
    ) -> Result<Admission, LimiterUnavailable> {
        let mut tats = self
            .tats
            .lock()
            .map_err(|_| LimiterUnavailable("the in-process store is poisoned".to_owned()))?;
        if tats.len() > PRUNE_ABOVE {
            // A TAT in the past means a whole quota: the key can be forgotten.
            tats.retain(|_, tat| *tat > now_ms);
        }
        let admission = admit(tats.get(key).copied(), now_ms, quota);
        if admission.allowed {
            tats.insert(key.to_owned(), admission.tat_ms);
        }
        Ok(admission)
    }
}
