use std::{sync::Arc, time::Duration};

use application::catalog::ports::{CacheError, CatalogCache, CatalogRevision, CatalogSnapshot};
use async_trait::async_trait;

use super::InProcessCatalogCache;
use crate::redis::RedisPool;

/// Snapshots of older revisions are never read again; they expire after this long.
const SNAPSHOT_TTL: Duration = Duration::from_secs(3600);

/// Catalog snapshots in Redis as JSON, one key per revision, shared by every instance, and the
/// latest one in process as well: a revision is fetched from Redis (and parsed) once per
/// instance, and the reads that follow ask nobody.
#[derive(Debug, Clone)]
pub struct RedisCatalogCache {
    redis: RedisPool,
    prefix: String,
    local: Arc<InProcessCatalogCache>,
}

impl RedisCatalogCache {
    /// A cache in `redis` under keys starting with `prefix`.
    #[must_use]
    pub fn new(redis: RedisPool, prefix: impl Into<String>) -> Self {
        Self {
            redis,
            prefix: prefix.into(),
            local: Arc::new(InProcessCatalogCache::new()),
        }
    }

    fn key(&self, revision: &CatalogRevision) -> String {
        format!("{}catalog:{}", self.prefix, revision.0)
    }
}

fn failed(error: impl std::fmt::Display) -> CacheError {
    CacheError(error.to_string())
}

impl RedisCatalogCache {
    #[tracing::instrument(name = "redis.catalog.get", skip_all)]
    async fn get_shared(
        &self,
        revision: &CatalogRevision,
    ) -> Result<Option<Arc<CatalogSnapshot>>, CacheError> {
        let cached: Option<String> = self
            .redis
            .query(deadpool_redis::redis::cmd("GET").arg(self.key(revision)))
            .await
            .map_err(failed)?;
        cached
            .map(|json| serde_json::from_str(&json).map(Arc::new).map_err(failed))
            .transpose()
    }
}

#[async_trait]
impl CatalogCache for RedisCatalogCache {
    async fn get(
        &self,
        revision: &CatalogRevision,
    ) -> Result<Option<Arc<CatalogSnapshot>>, CacheError> {
        if let Some(snapshot) = self.local.get(revision).await? {
            return Ok(Some(snapshot));
        }
        let shared = self.get_shared(revision).await?;
        if let Some(snapshot) = &shared {
            self.local.put(revision, snapshot.clone()).await?;
        }
        Ok(shared)
    }

    #[tracing::instrument(name = "redis.catalog.put", skip_all)]
    async fn put(
        &self,
        revision: &CatalogRevision,
        snapshot: Arc<CatalogSnapshot>,
    ) -> Result<(), CacheError> {
        self.local.put(revision, snapshot.clone()).await?;
        let json = serde_json::to_string(snapshot.as_ref()).map_err(failed)?;
        let _: () = self
            .redis
            .query(
                deadpool_redis::redis::cmd("SET")
                    .arg(self.key(revision))
                    .arg(json)
                    .arg("EX")
                    .arg(SNAPSHOT_TTL.as_secs()),
            )
            .await
            .map_err(failed)?;
        Ok(())
    }
}
