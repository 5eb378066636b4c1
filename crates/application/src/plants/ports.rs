//! The port user plants are stored through.

use async_trait::async_trait;
use domain::{
    catalog::{CatalogPlant, CatalogPlantId, Light},
    chat::Message,
    identity::{TenantId, UserId},
    plants::{UserPlant, UserPlantId},
};

use crate::{
    identity::Principal,
    paging::{Page, PageRequest},
    store::StoreError,
};

/// Which columns of a plant one change writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlantColumns {
    /// The nickname.
    pub nickname: bool,
    /// The personality.
    pub personality: bool,
    /// `next_reminder_at`.
    pub next_reminder: bool,
    /// `last_watered_at` (a watering, which also moves the next reminder).
    pub last_watered: bool,
}

/// Whose plants: every read and write is scoped by tenant and owner, so another user's plant is
/// simply not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// The owner's tenant.
    pub tenant_id: TenantId,
    /// The owner.
    pub user_id: UserId,
}

impl From<&Principal> for Owner {
    fn from(principal: &Principal) -> Self {
        Self {
            tenant_id: principal.tenant_id,
            user_id: principal.user_id,
        }
    }
}

/// The part of a catalog entry shown with each plant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSummary {
    /// The species.
    pub id: CatalogPlantId,
    /// Its common name.
    pub common_name: String,
    /// Its botanical name.
    pub scientific_name: String,
    /// Days between waterings.
    pub watering_interval_days: u32,
    /// Light it wants.
    pub light: Light,
}

impl From<&CatalogPlant> for CatalogSummary {
    fn from(plant: &CatalogPlant) -> Self {
        Self {
            id: plant.id,
            common_name: plant.common_name.clone(),
            scientific_name: plant.scientific_name.clone(),
            watering_interval_days: plant.watering_interval_days,
            light: plant.light,
        }
    }
}

/// A user's plant with its species.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedPlant {
    /// The plant.
    pub plant: UserPlant,
    /// Its species.
    pub catalog: CatalogSummary,
}

/// Users' plants.
#[async_trait]
pub trait UserPlantRepository: Send + Sync {
    /// Stores a new plant.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn create(&self, plant: &UserPlant) -> Result<(), StoreError>;

    /// The owner's plant with this id, with its species.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find(&self, owner: Owner, id: UserPlantId) -> Result<Option<OwnedPlant>, StoreError>;

    /// The owner's plant with this id and its `count` most recent messages, newest first, read
    /// together — one statement in the database adapter — because a chat needs both before it
    /// can answer.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find_with_recent_messages(
        &self,
        owner: Owner,
        id: UserPlantId,
        count: u64,
    ) -> Result<Option<(OwnedPlant, Vec<Message>)>, StoreError>;

    /// The owner's plants, oldest first, each with its species, in one query whatever their
    /// number.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn list(&self, owner: Owner, page: PageRequest) -> Result<Page<OwnedPlant>, StoreError>;

    /// Saves the columns of `plant` that `changed` names — and only those — plus `updated_at`,
    /// so a change never writes back a value another writer (the reminder claim, a watering)
    /// moved meanwhile. `false` when the owner has no such plant (any more).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn update(&self, plant: &UserPlant, changed: PlantColumns) -> Result<bool, StoreError>;

    /// The owner's active plant with this nickname, compared case-insensitively (ASCII letters).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find_by_nickname(
        &self,
        owner: Owner,
        nickname: &str,
    ) -> Result<Option<UserPlant>, StoreError>;

    /// The owner's active plant with the most recent message, else the most recently added one.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn most_recent(&self, owner: Owner) -> Result<Option<UserPlant>, StoreError>;

    /// Deletes the owner's plant and its conversation. `false` when there was none.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn delete(&self, owner: Owner, id: UserPlantId) -> Result<bool, StoreError>;
}
