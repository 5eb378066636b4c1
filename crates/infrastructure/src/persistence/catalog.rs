//! The stored catalog: species, companions and personalities, read whole into a snapshot.

use std::collections::{BTreeMap, HashMap};

use application::{
    catalog::ports::{CatalogRepository, CatalogRevision, CatalogSnapshot},
    store::StoreError,
};
use async_trait::async_trait;
use domain::{
    catalog::{
        CatalogPlant, CatalogPlantId, CompanionLink, Personality, PersonalityId, PersonalityKey,
    },
    chat::Intent,
};
use sea_orm::{EntityTrait, QueryOrder};

use crate::persistence::{
    Database,
    change_feed::read_catalog_revision,
    entities::{catalog_plants, companion_relationships, personalities},
    store_error::{corrupt, store_error},
};

/// The catalog tables.
#[derive(Debug, Clone)]
pub struct SeaOrmCatalogRepository {
    db: Database,
}

impl SeaOrmCatalogRepository {
    /// A repository over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

fn personality(row: personalities::Model) -> Result<Personality, StoreError> {
    let templates: BTreeMap<Intent, Vec<String>> =
        serde_json::from_value(row.templates).map_err(corrupt)?;
    Ok(Personality {
        id: PersonalityId::from_uuid(row.id),
        key: PersonalityKey::parse(&row.key).map_err(corrupt)?,
        name: row.name,
        description: row.description,
        system_prompt: row.system_prompt,
        templates,
    })
}

#[async_trait]
impl CatalogRepository for SeaOrmCatalogRepository {
    /// The revision the change feed last heard of; asked of the database (the counter the
    /// catalog triggers move, migration 000012) only while the feed is not in step.
    async fn revision(&self) -> Result<CatalogRevision, StoreError> {
        let revision = match self.db.changes().catalog_revision() {
            Some(revision) => revision,
            None => read_catalog_revision(&self.db).await.map_err(store_error)?,
        };
        Ok(CatalogRevision(revision.to_string()))
    }

    #[tracing::instrument(name = "db.catalog.snapshot", skip_all)]
    async fn snapshot(&self) -> Result<CatalogSnapshot, StoreError> {
        let db = self.db.connection();
        let personality_rows = personalities::Entity::find()
            .order_by_asc(personalities::Column::Key)
            .all(db)
            .await
            .map_err(store_error)?;
        let plant_rows = catalog_plants::Entity::find()
            .order_by_asc(catalog_plants::Column::Id)
            .all(db)
            .await
            .map_err(store_error)?;
        let companion_rows = companion_relationships::Entity::find()
            .order_by_asc(companion_relationships::Column::Id)
            .all(db)
            .await
            .map_err(store_error)?;

        let personalities = personality_rows
            .into_iter()
            .map(personality)
            .collect::<Result<Vec<_>, _>>()?;
        let keys: HashMap<PersonalityId, PersonalityKey> = personalities
            .iter()
            .map(|p| (p.id, p.key.clone()))
            .collect();
        let plants = plant_rows
            .into_iter()
            .map(|row| {
                let default_personality = keys
                    .get(&PersonalityId::from_uuid(row.default_personality_id))
                    .cloned()
                    .ok_or_else(|| {
                        corrupt(std::io::Error::other(
                            "a species names an unknown personality",
                        ))
                    })?;
                Ok(CatalogPlant {
                    id: CatalogPlantId::from_uuid(row.id),
                    common_name: row.common_name,
                    scientific_name: row.scientific_name,
                    watering_interval_days: u32::try_from(row.watering_interval_days)
                        .map_err(corrupt)?,
                    light: row.light.parse().map_err(corrupt)?,
                    default_personality,
                    restricted_reason: if row.restricted {
                        Some(row.restricted_reason.unwrap_or_default())
                    } else {
                        None
                    },
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let companions = companion_rows
            .into_iter()
            .map(|row| {
                Ok(CompanionLink {
                    plant: CatalogPlantId::from_uuid(row.plant_id),
                    companion: CatalogPlantId::from_uuid(row.companion_id),
                    kind: row.kind.parse().map_err(corrupt)?,
                    reason: row.reason,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(CatalogSnapshot {
            plants,
            companions,
            personalities,
        })
    }
}
