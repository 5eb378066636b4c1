use std::sync::Arc;

use domain::catalog::{CatalogPlant, CatalogPlantId, CompanionKind, Personality, PersonalityKey};

use super::{
    CatalogSearch,
    ports::{CatalogCache, CatalogRepository, CatalogRevision, CatalogSnapshot},
};
use crate::{
    paging::{Page, PageRequest},
    store::StoreError,
};

/// A species as `GET /catalog/{id}` shows it: with the plants it grows well or badly with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The species.
    pub plant: CatalogPlant,
    /// Its companions, by common name.
    pub companions: Vec<Companion>,
}

/// One companion of a species.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Companion {
    /// The other species.
    pub catalog_plant_id: CatalogPlantId,
    /// Its common name.
    pub common_name: String,
    /// Good or bad neighbours.
    pub kind: CompanionKind,
    /// Why.
    pub reason: String,
}

/// Why a catalog entry cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum CatalogEntryError {
    /// No species has this id.
    #[error("no catalog plant has this id")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The catalog use cases. Every read is served from a snapshot cached under the catalog's
/// current revision: a change to the stored catalog changes the revision, so the next read
/// after the repository has seen the new revision loads and caches a new snapshot (on every
/// instance, whichever process made the change).
#[derive(Clone)]
pub struct Catalog {
    repository: Arc<dyn CatalogRepository>,
    cache: Arc<dyn CatalogCache>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").finish_non_exhaustive()
    }
}

impl Catalog {
    /// The use cases over the stored catalog and a cache.
    #[must_use]
    pub fn new(repository: Arc<dyn CatalogRepository>, cache: Arc<dyn CatalogCache>) -> Self {
        Self { repository, cache }
    }

    /// The current snapshot, from the cache when it holds the current revision. A failing cache
    /// is logged and bypassed: it costs speed, never an answer.
    pub(crate) async fn snapshot(&self) -> Result<Arc<CatalogSnapshot>, StoreError> {
        let revision = self.repository.revision().await?;
        match self.cache.get(&revision).await {
            Ok(Some(snapshot)) => return Ok(snapshot),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "catalog cache unreadable; reading the store"),
        }
        let snapshot = Arc::new(self.repository.snapshot().await?);
        if let Err(error) = self.cache.put(&revision, snapshot.clone()).await {
            tracing::warn!(%error, "catalog cache unwritable");
        }
        tracing::debug!(revision = %revision.0, "catalog snapshot loaded");
        Ok(snapshot)
    }

    /// The revision the catalog is at — from memory when the store's adapter hears changes —
    /// under which rendered answers may be cached.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn revision(&self) -> Result<CatalogRevision, StoreError> {
        self.repository.revision().await
    }

    /// Species matching `search` (all when `None`), in creation order, one page.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "catalog.list", skip_all, fields(limit = page.limit, search = search.is_some()))]
    pub async fn list(
        &self,
        search: Option<&CatalogSearch>,
        page: PageRequest,
    ) -> Result<Page<CatalogPlant>, StoreError> {
        let snapshot = self.snapshot().await?;
        let after = page.after.map(CatalogPlantId::from_uuid);
        let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
        let items: Vec<CatalogPlant> = snapshot
            .plants
            .iter()
            .filter(|plant| after.is_none_or(|after| plant.id > after))
            .filter(|plant| search.is_none_or(|search| plant.matches(search.as_str())))
            .take(limit.saturating_add(1))
            .cloned()
            .collect();
        Ok(Page::from_overfetched(items, page.limit, |plant| {
            plant.id.as_uuid()
        }))
    }

    /// One species with its companions.
    ///
    /// # Errors
    /// [`CatalogEntryError::NotFound`] for an unknown id.
    #[tracing::instrument(name = "catalog.entry", skip_all, fields(catalog_plant_id = %id))]
    pub async fn entry(&self, id: CatalogPlantId) -> Result<CatalogEntry, CatalogEntryError> {
        let snapshot = self.snapshot().await?;
        let plant = snapshot
            .plant(id)
            .cloned()
            .ok_or(CatalogEntryError::NotFound)?;
        let mut companions: Vec<Companion> = snapshot
            .companions
            .iter()
            .filter_map(|link| {
                let other = link.other_than(id)?;
                let other = snapshot.plant(other)?;
                Some(Companion {
                    catalog_plant_id: other.id,
                    common_name: other.common_name.clone(),
                    kind: link.kind,
                    reason: link.reason.clone(),
                })
            })
            .collect();
        companions.sort_by(|a, b| a.common_name.cmp(&b.common_name));
        Ok(CatalogEntry { plant, companions })
    }

    /// One page of the personalities, in id order.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "catalog.personalities", skip_all)]
    pub async fn personalities(&self, page: PageRequest) -> Result<Page<Personality>, StoreError> {
        let snapshot = self.snapshot().await?;
        let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
        let mut items: Vec<&Personality> = snapshot
            .personalities
            .iter()
            .filter(|personality| {
                page.after
                    .is_none_or(|after| personality.id.as_uuid() > after)
            })
            .collect();
        items.sort_by_key(|personality| personality.id.as_uuid());
        items.truncate(limit.saturating_add(1));
        let items = items.into_iter().cloned().collect();
        Ok(Page::from_overfetched(items, page.limit, |personality| {
            personality.id.as_uuid()
        }))
    }

    /// The personality with this key, if any.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn personality(
        &self,
        key: &PersonalityKey,
    ) -> Result<Option<Personality>, StoreError> {
        Ok(self.snapshot().await?.personality(key).cloned())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    };

    use async_trait::async_trait;
    use domain::catalog::Light;
    use uuid::Uuid;

    use super::*;
    use crate::catalog::ports::{CacheError, CatalogRevision};

    /// A stored catalog whose revision the test moves, counting full loads.
    struct Store {
        revision: Mutex<String>,
        loads: AtomicUsize,
        plants: Vec<CatalogPlant>,
    }

    #[async_trait]
    impl CatalogRepository for Store {
        async fn revision(&self) -> Result<CatalogRevision, StoreError> {
            Ok(CatalogRevision(self.revision.lock().unwrap().clone()))
        }

        async fn snapshot(&self) -> Result<CatalogSnapshot, StoreError> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            Ok(CatalogSnapshot {
                plants: self.plants.clone(),
                companions: Vec::new(),
                personalities: Vec::new(),
            })
        }
    }

    /// One slot, or a cache that always fails.
    #[derive(Default)]
    struct Slot {
        broken: bool,
        held: Mutex<Option<(CatalogRevision, Arc<CatalogSnapshot>)>>,
    }

    #[async_trait]
    impl CatalogCache for Slot {
        async fn get(
            &self,
            revision: &CatalogRevision,
        ) -> Result<Option<Arc<CatalogSnapshot>>, CacheError> {
            if self.broken {
                return Err(CacheError("down".into()));
            }
            let held = self.held.lock().unwrap();
            Ok(held
                .as_ref()
                .filter(|(r, _)| r == revision)
                .map(|(_, s)| s.clone()))
        }

        async fn put(
            &self,
            revision: &CatalogRevision,
            snapshot: Arc<CatalogSnapshot>,
        ) -> Result<(), CacheError> {
            if self.broken {
                return Err(CacheError("down".into()));
            }
            *self.held.lock().unwrap() = Some((revision.clone(), snapshot));
            Ok(())
        }
    }

    fn species(name: &str) -> CatalogPlant {
        CatalogPlant {
            id: CatalogPlantId::from_uuid(Uuid::now_v7()),
            common_name: name.to_owned(),
            scientific_name: format!("{name} botanica"),
            watering_interval_days: 3,
            light: Light::Medium,
            default_personality: PersonalityKey::parse("chill_friend").unwrap(),
            restricted_reason: None,
        }
    }

    fn store() -> Arc<Store> {
        Arc::new(Store {
            revision: Mutex::new("1".to_owned()),
            loads: AtomicUsize::new(0),
            plants: ["Aloe", "Basil", "Cactus"].map(species).to_vec(),
        })
    }

    #[tokio::test]
    async fn reads_are_served_from_the_cache_until_the_revision_changes() {
        let store = store();
        let catalog = Catalog::new(store.clone(), Arc::new(Slot::default()));
        for _ in 0..3 {
            catalog.list(None, PageRequest::default()).await.unwrap();
        }
        assert_eq!(store.loads.load(Ordering::SeqCst), 1);
        *store.revision.lock().unwrap() = "2".to_owned();
        catalog.list(None, PageRequest::default()).await.unwrap();
        assert_eq!(store.loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_broken_cache_costs_a_load_per_read_but_never_an_answer() {
        let store = store();
        let broken = Slot {
            broken: true,
            ..Slot::default()
        };
        let catalog = Catalog::new(store.clone(), Arc::new(broken));
        for _ in 0..2 {
            assert_eq!(
                catalog
                    .list(None, PageRequest::default())
                    .await
                    .unwrap()
                    .items
                    .len(),
                3
            );
        }
        assert_eq!(store.loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_search_pages_through_the_matching_species_only() {
        let catalog = Catalog::new(store(), Arc::new(Slot::default()));
        let search = CatalogSearch::parse("a").unwrap();
        let first = catalog
            .list(
                search.as_ref(),
                PageRequest {
                    limit: 2,
                    after: None,
                },
            )
            .await
            .unwrap();
        let names: Vec<_> = first.items.iter().map(|p| p.common_name.as_str()).collect();
        assert_eq!(names, ["Aloe", "Basil"]);
        let rest = catalog
            .list(
                search.as_ref(),
                PageRequest {
                    limit: 2,
                    after: first.next_after,
                },
            )
            .await
            .unwrap();
        assert_eq!(rest.items[0].common_name, "Cactus");
        assert_eq!(rest.next_after, None);
        let entry = catalog.entry(first.items[0].id).await.unwrap();
        assert!(entry.companions.is_empty());
        assert!(matches!(
            catalog
                .entry(CatalogPlantId::from_uuid(Uuid::now_v7()))
                .await,
            Err(CatalogEntryError::NotFound)
        ));
    }
}
