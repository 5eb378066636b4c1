use std::sync::{Arc, RwLock};

use application::catalog::ports::{CacheError, CatalogCache, CatalogRevision, CatalogSnapshot};
use async_trait::async_trait;

/// The latest snapshot, in this process's memory. Holding one revision only means a change
/// replaces the old snapshot instead of piling up.
#[derive(Debug, Default)]
pub struct InProcessCatalogCache {
    latest: RwLock<Option<(CatalogRevision, Arc<CatalogSnapshot>)>>,
}

impl InProcessCatalogCache {
    /// An empty cache.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned() -> CacheError {
    CacheError("the in-process cache lock is poisoned".to_owned())
}

#[async_trait]
impl CatalogCache for InProcessCatalogCache {
    async fn get(
        &self,
        revision: &CatalogRevision,
    ) -> Result<Option<Arc<CatalogSnapshot>>, CacheError> {
        let latest = self.latest.read().map_err(|_| poisoned())?;
        Ok(latest
            .as_ref()
            .filter(|(cached, _)| cached == revision)
            .map(|(_, snapshot)| snapshot.clone()))
    }

    async fn put(
        &self,
        revision: &CatalogRevision,
        snapshot: Arc<CatalogSnapshot>,
    ) -> Result<(), CacheError> {
        *self.latest.write().map_err(|_| poisoned())? = Some((revision.clone(), snapshot));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Arc<CatalogSnapshot> {
        Arc::new(CatalogSnapshot {
            plants: Vec::new(),
            companions: Vec::new(),
            personalities: Vec::new(),
        })
    }

    #[tokio::test]
    async fn a_snapshot_is_served_for_its_revision_only() {
        let cache = InProcessCatalogCache::new();
        let first = CatalogRevision("1".to_owned());
        let second = CatalogRevision("2".to_owned());
        assert!(cache.get(&first).await.unwrap().is_none());
        cache.put(&first, snapshot()).await.unwrap();
        assert!(cache.get(&first).await.unwrap().is_some());
        assert!(cache.get(&second).await.unwrap().is_none());
        cache.put(&second, snapshot()).await.unwrap();
        assert!(cache.get(&first).await.unwrap().is_none());
    }
}
