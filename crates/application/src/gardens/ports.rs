//! The ports gardens, plantings and the compliance audit are stored through.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    catalog::CatalogPlantId,
    gardens::{Garden, GardenId, Planting, PlantingEvent, PlantingId, PlantingStatus},
    identity::{TenantId, UserId},
};
use uuid::Uuid;

use crate::{
    paging::{Page, PageRequest},
    plants::Owner,
    store::StoreError,
};

/// Which columns of a garden one change writes: only those a request named, so that two
/// changes of different fields never undo each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GardenColumns {
    /// The name.
    pub name: bool,
    /// The width.
    pub width: bool,
    /// The length.
    pub length: bool,
}

/// Which columns of a planting one change writes (see [`GardenColumns`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlantingColumns {
    /// The status.
    pub status: bool,
    /// The cell (x and y).
    pub cell: bool,
    /// The planting day.
    pub planted_on: bool,
}

/// Users' gardens, always scoped by tenant and owner.
#[async_trait]
pub trait GardenRepository: Send + Sync {
    /// Stores a new garden.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn create(&self, garden: &Garden) -> Result<(), StoreError>;

    /// The owner's garden with this id.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find(&self, owner: Owner, id: GardenId) -> Result<Option<Garden>, StoreError>;

    /// The owner's gardens, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn list(&self, owner: Owner, page: PageRequest) -> Result<Page<Garden>, StoreError>;

    /// Saves the columns of `garden` that `changed` names, and `updated_at`. `false` when the
    /// owner has no such garden (any more).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn update(&self, garden: &Garden, changed: GardenColumns) -> Result<bool, StoreError>;

    /// How many planned and active plantings the owner's garden holds.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn count_occupying(&self, owner: Owner, id: GardenId) -> Result<u64, StoreError>;

    /// Deletes the owner's garden with its plantings and their events. `false` when there was
    /// none.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn delete(&self, owner: Owner, id: GardenId) -> Result<bool, StoreError>;
}

/// Plantings and their events, always scoped by tenant and owner.
#[async_trait]
pub trait PlantingRepository: Send + Sync {
    /// Stores a new planting. `false` when its garden is gone (deleted meanwhile).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn create(&self, planting: &Planting) -> Result<bool, StoreError>;

    /// The owner's planting with this id.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find(&self, owner: Owner, id: PlantingId) -> Result<Option<Planting>, StoreError>;

    /// The plantings of the owner's garden, oldest first, only those with `status` when given:
    /// one range of an index whatever the garden's size.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn list(
        &self,
        owner: Owner,
        garden: GardenId,
        status: Option<PlantingStatus>,
        page: PageRequest,
    ) -> Result<Page<Planting>, StoreError>;

    /// Every planned and active planting of the owner's garden: what analysis and layout read.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn occupying(&self, owner: Owner, garden: GardenId) -> Result<Vec<Planting>, StoreError>;

    /// Saves the columns of `planting` that `changed` names, and `updated_at`, provided its
    /// stored status is still `expected` — so two racing moves cannot together make one the life
    /// of a planting forbids. `false` when the planting is gone or its status moved meanwhile.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn update(
        &self,
        planting: &Planting,
        expected: PlantingStatus,
        changed: PlantingColumns,
    ) -> Result<bool, StoreError>;

    /// Deletes the owner's planting and its events. `false` when there was none.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn delete(&self, owner: Owner, id: PlantingId) -> Result<bool, StoreError>;

    /// The events of the owner's planting, in id (recording) order.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn events(
        &self,
        owner: Owner,
        planting: PlantingId,
        page: PageRequest,
    ) -> Result<Page<PlantingEvent>, StoreError>;

    /// Stores an event. `false` when its planting is gone (deleted meanwhile).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn add_event(&self, event: &PlantingEvent) -> Result<bool, StoreError>;
}

/// What became of a planting of a restricted crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplianceDecision {
    /// Refused: enforcement was on.
    Blocked,
    /// Planted and recorded: enforcement was off (log-only mode).
    Allowed,
}

impl ComplianceDecision {
    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::Allowed => "allowed",
        }
    }

    /// The decision with this name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Blocked, Self::Allowed]
            .into_iter()
            .find(|decision| decision.as_str() == name)
    }
}

/// One entry of the compliance audit: somebody tried to plant a restricted crop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceEntry {
    /// Its id (UUID v7: newest is greatest).
    pub id: Uuid,
    /// The planter's tenant.
    pub tenant_id: TenantId,
    /// The planter.
    pub user_id: UserId,
    /// The garden.
    pub garden_id: GardenId,
    /// The restricted species.
    pub catalog_plant_id: CatalogPlantId,
    /// The planting, when it was allowed.
    pub planting_id: Option<PlantingId>,
    /// Refused or allowed.
    pub decision: ComplianceDecision,
    /// Why the species is restricted.
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// The compliance audit: written once, never changed (the database refuses it).
#[async_trait]
pub trait ComplianceAudit: Send + Sync {
    /// In one transaction: appends `entry`, flags its user, and stores `planting` when given
    /// (log-only mode). `false` when the planting's garden is gone; nothing is then written.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; nothing is then written.
    async fn record(
        &self,
        entry: &ComplianceEntry,
        planting: Option<&Planting>,
    ) -> Result<bool, StoreError>;

    /// Entries of `tenant` (every tenant's when `None`), newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn list(
        &self,
        tenant: Option<TenantId>,
        page: PageRequest,
    ) -> Result<Page<ComplianceEntry>, StoreError>;
}
