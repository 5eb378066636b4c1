use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::{
    catalog::{CatalogPlantId, PersonalityKey},
    plants::{Nickname, UserPlant, UserPlantId, next_watering},
};

use super::ports::{CatalogSummary, OwnedPlant, Owner, PlantColumns, UserPlantRepository};
use crate::{
    catalog::Catalog,
    paging::{Page, PageRequest},
    store::StoreError,
    system::{Clock, IdGenerator},
};

/// Everything the plant use cases need, wired by the server.
#[derive(Clone)]
pub struct PlantPorts {
    /// Users' plants.
    pub plants: Arc<dyn UserPlantRepository>,
    /// Species and personalities.
    pub catalog: Catalog,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for PlantPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlantPorts").finish_non_exhaustive()
    }
}

/// A plant to add, parsed.
#[derive(Debug, Clone)]
pub struct NewPlant {
    /// The species.
    pub catalog_plant_id: CatalogPlantId,
    /// What to call it.
    pub nickname: Nickname,
    /// How it speaks; the species' default when `None`.
    pub personality: Option<PersonalityKey>,
}

/// Changes to a plant, parsed. `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct PlantChanges {
    /// A new nickname.
    pub nickname: Option<Nickname>,
    /// A new personality.
    pub personality: Option<PersonalityKey>,
    /// A new reminder time.
    pub next_reminder_at: Option<DateTime<Utc>>,
}

/// Why a plant cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum CreatePlantError {
    /// No species has this id.
    #[error("no catalog plant has this id")]
    UnknownCatalogPlant,
    /// No personality has this key.
    #[error("no personality has this key")]
    UnknownPersonality,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a plant cannot be changed.
#[derive(Debug, thiserror::Error)]
pub enum UpdatePlantError {
    /// The caller has no such plant.
    #[error("no such plant")]
    NotFound,
    /// No personality has this key.
    #[error("no personality has this key")]
    UnknownPersonality,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a plant cannot be read, watered or removed.
#[derive(Debug, thiserror::Error)]
pub enum PlantError {
    /// The caller has no such plant.
    #[error("no such plant")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The plant use cases, each scoped to the caller's own plants.
#[derive(Clone)]
pub struct Plants {
    ports: PlantPorts,
}

impl std::fmt::Debug for Plants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plants").finish_non_exhaustive()
    }
}

impl Plants {
    /// The use cases over `ports`.
    #[must_use]
    pub const fn new(ports: PlantPorts) -> Self {
        Self { ports }
    }

    /// Adds a plant; its first reminder is one watering interval from now.
    ///
    /// # Errors
    /// [`CreatePlantError`] for an unknown species or personality.
    #[tracing::instrument(name = "plants.create", skip_all, fields(user_id = %owner.user_id, catalog_plant_id = %new.catalog_plant_id))]
    pub async fn create(
        &self,
        owner: Owner,
        new: NewPlant,
    ) -> Result<OwnedPlant, CreatePlantError> {
        let catalog = self.ports.catalog.snapshot().await?;
        let species = catalog
            .plant(new.catalog_plant_id)
            .ok_or(CreatePlantError::UnknownCatalogPlant)?;
        let personality = match new.personality {
            Some(key) => catalog
                .personality(&key)
                .ok_or(CreatePlantError::UnknownPersonality)?
                .key
                .clone(),
            None => species.default_personality.clone(),
        };
        let now = self.ports.clock.now();
        let plant = UserPlant {
            id: UserPlantId::from_uuid(self.ports.ids.new_id()),
            tenant_id: owner.tenant_id,
            owner: owner.user_id,
            catalog_plant_id: species.id,
            nickname: new.nickname,
            personality,
            last_watered_at: None,
            next_reminder_at: Some(next_watering(now, species.watering_interval_days)),
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        self.ports.plants.create(&plant).await?;
        tracing::info!(plant_id = %plant.id, "plant added");
        Ok(OwnedPlant {
            plant,
            catalog: CatalogSummary::from(species),
        })
    }

    /// The caller's plants, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "plants.list", skip_all, fields(user_id = %owner.user_id))]
    pub async fn list(
        &self,
        owner: Owner,
        page: PageRequest,
    ) -> Result<Page<OwnedPlant>, StoreError> {
        self.ports.plants.list(owner, page).await
    }

    /// One of the caller's plants.
    ///
    /// # Errors
    /// [`PlantError::NotFound`] when the caller has no such plant.
    #[tracing::instrument(name = "plants.get", skip_all, fields(user_id = %owner.user_id, plant_id = %id))]
    pub async fn get(&self, owner: Owner, id: UserPlantId) -> Result<OwnedPlant, PlantError> {
        self.ports
            .plants
            .find(owner, id)
            .await?
            .ok_or(PlantError::NotFound)
    }

    /// Renames a plant, changes its personality or moves its next reminder.
    ///
    /// # Errors
    /// [`UpdatePlantError`] for a missing plant or an unknown personality.
    #[tracing::instrument(name = "plants.update", skip_all, fields(user_id = %owner.user_id, plant_id = %id))]
    pub async fn update(
        &self,
        owner: Owner,
        id: UserPlantId,
        changes: PlantChanges,
    ) -> Result<OwnedPlant, UpdatePlantError> {
        let mut owned = self
            .ports
            .plants
            .find(owner, id)
            .await?
            .ok_or(UpdatePlantError::NotFound)?;
        let changed = PlantColumns {
            nickname: changes.nickname.is_some(),
            personality: changes.personality.is_some(),
            next_reminder: changes.next_reminder_at.is_some(),
            last_watered: false,
        };
        if let Some(key) = changes.personality {
            owned.plant.personality = self
                .ports
                .catalog
                .personality(&key)
                .await?
                .ok_or(UpdatePlantError::UnknownPersonality)?
                .key;
        }
        if let Some(nickname) = changes.nickname {
            owned.plant.nickname = nickname;
        }
        let now = self.ports.clock.now();
        if let Some(next_reminder_at) = changes.next_reminder_at {
            // A reminder in the past is due now, not once per past interval: moving it back
            // again and again must not make the plant text every minute.
            owned.plant.next_reminder_at = Some(next_reminder_at.max(now));
        }
        owned.plant.updated_at = now;
        if !self.ports.plants.update(&owned.plant, changed).await? {
            return Err(UpdatePlantError::NotFound);
        }
        Ok(owned)
    }

    /// Records a watering now and reschedules the reminder by the species' interval.
    ///
    /// # Errors
    /// [`PlantError::NotFound`] when the caller has no such plant.
    #[tracing::instrument(name = "plants.water", skip_all, fields(user_id = %owner.user_id, plant_id = %id))]
    pub async fn water(&self, owner: Owner, id: UserPlantId) -> Result<OwnedPlant, PlantError> {
        let mut owned = self
            .ports
            .plants
            .find(owner, id)
            .await?
            .ok_or(PlantError::NotFound)?;
        owned
            .plant
            .water(self.ports.clock.now(), owned.catalog.watering_interval_days);
        let watered = PlantColumns {
            next_reminder: true,
            last_watered: true,
            ..PlantColumns::default()
        };
        if !self.ports.plants.update(&owned.plant, watered).await? {
            return Err(PlantError::NotFound);
        }
        Ok(owned)
    }

    /// Removes a plant and its conversation.
    ///
    /// # Errors
    /// [`PlantError::NotFound`] when the caller has no such plant.
    #[tracing::instrument(name = "plants.delete", skip_all, fields(user_id = %owner.user_id, plant_id = %id))]
    pub async fn delete(&self, owner: Owner, id: UserPlantId) -> Result<(), PlantError> {
        if self.ports.plants.delete(owner, id).await? {
            tracing::info!("plant removed");
            Ok(())
        } else {
            Err(PlantError::NotFound)
        }
    }
}
