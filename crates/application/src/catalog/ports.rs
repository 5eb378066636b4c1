//! The ports the catalog is read and cached through.

use std::sync::Arc;

use async_trait::async_trait;
use domain::catalog::{CatalogPlant, CatalogPlantId, CompanionLink, Personality, PersonalityKey};

use crate::store::StoreError;

/// The whole catalog at one revision: small (tens to a few thousand rows), read often, changed
/// rarely, so it is cached and served from memory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CatalogSnapshot {
    /// Every species, by id (creation order).
    pub plants: Vec<CatalogPlant>,
    /// Every companion relationship.
    pub companions: Vec<CompanionLink>,
    /// Every personality, by key.
    pub personalities: Vec<Personality>,
}

impl CatalogSnapshot {
    /// The species with this id.
    #[must_use]
    pub fn plant(&self, id: CatalogPlantId) -> Option<&CatalogPlant> {
        self.plants.iter().find(|plant| plant.id == id)
    }

    /// The personality with this key.
    #[must_use]
    pub fn personality(&self, key: &PersonalityKey) -> Option<&Personality> {
        self.personalities
            .iter()
            .find(|personality| &personality.key == key)
    }
}

/// A value that changes whenever the stored catalog changes, so that a snapshot cached under one
/// revision is never served for another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CatalogRevision(pub String);

/// The stored catalog.
#[async_trait]
pub trait CatalogRepository: Send + Sync {
    /// The current revision. Called on every catalog read, so adapters answer it from memory
    /// when they can (the database adapter hears changes announced) and ask the store only
    /// when they cannot.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn revision(&self) -> Result<CatalogRevision, StoreError>;

    /// The whole catalog.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn snapshot(&self) -> Result<CatalogSnapshot, StoreError>;
}

/// A cache failure; the catalog is then read from the store.
#[derive(Debug, thiserror::Error)]
#[error("the catalog cache failed: {0}")]
pub struct CacheError(pub String);

/// Where snapshots are kept between requests: in process, or shared by instances.
#[async_trait]
pub trait CatalogCache: Send + Sync {
    /// The snapshot cached for `revision`, if any.
    ///
    /// # Errors
    /// [`CacheError`] when the cache cannot be read.
    async fn get(
        &self,
        revision: &CatalogRevision,
    ) -> Result<Option<Arc<CatalogSnapshot>>, CacheError>;

    /// Caches `snapshot` for `revision`, replacing snapshots of older revisions.
    ///
    /// # Errors
    /// [`CacheError`] when the cache cannot be written.
    async fn put(
        &self,
        revision: &CatalogRevision,
        snapshot: Arc<CatalogSnapshot>,
    ) -> Result<(), CacheError>;
}
