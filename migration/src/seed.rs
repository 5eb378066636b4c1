//! Reference data every installation starts with: the `demo` tenant, plant personalities, the
//! plant catalog and companion relationships.
//!
//! The seed is idempotent: rows are matched by their natural keys (tenant slug, personality key,
//! common name, plant pair) and existing ones are left alone, so it runs safely on every start.

mod catalog;
mod personalities;
pub mod synthetic;

use std::collections::HashMap;

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbErr, TransactionSession, TransactionTrait},
};

pub use catalog::{COMPANIONS, CatalogSeed, CompanionSeed, PLANTS};
pub use personalities::{PERSONALITIES, PersonalitySeed};

/// What a seed run inserted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    /// Rows inserted into `tenants`.
    pub tenants: u64,
    /// Rows inserted into `personalities`.
    pub personalities: u64,
    /// Rows inserted into `catalog_plants`.
    pub catalog_plants: u64,
    /// Rows inserted into `companion_relationships`.
    pub companion_relationships: u64,
}

/// Inserts whatever reference data is missing, in one transaction.
///
/// # Errors
/// Any database error; the transaction is rolled back and nothing is inserted.
pub async fn run<C>(db: &C) -> Result<SeedReport, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    let now = chrono::Utc::now();
    let tenants = txn
        .execute(
            &Query::insert()
                .into_table("tenants")
                .columns(["id", "slug", "name", "signup_open", "created_at"])
                .values_panic([
                    new_id().into(),
                    "demo".into(),
                    "Demo garden club".into(),
                    true.into(),
                    now.into(),
                ])
                .on_conflict(OnConflict::column("slug").do_nothing().to_owned())
                .to_owned(),
        )
        .await?
        .rows_affected();

    let mut insert = Query::insert();
    insert.into_table("personalities").columns([
        "id",
        "key",
        "name",
        "description",
        "system_prompt",
        "templates",
        "created_at",
    ]);
    for personality in PERSONALITIES {
        insert.values_panic([
            new_id().into(),
            personality.key.into(),
            personality.name.into(),
            personality.description.into(),
            personality.system_prompt.into(),
            personality.templates_json().into(),
            now.into(),
        ]);
    }
    insert.on_conflict(OnConflict::column("key").do_nothing().to_owned());
    let personalities = txn.execute(&insert).await?.rows_affected();
    let personality_ids = ids_by(&txn, "personalities", "key").await?;

    let mut insert = Query::insert();
    insert.into_table("catalog_plants").columns([
        "id",
        "common_name",
        "scientific_name",
        "watering_interval_days",
        "light",
        "default_personality_id",
        "restricted",
        "restricted_reason",
        "created_at",
        "updated_at",
    ]);
    for plant in PLANTS {
        let personality = personality_ids
            .get(plant.personality)
            .ok_or_else(|| DbErr::Custom(format!("unknown personality {}", plant.personality)))?;
        insert.values_panic([
            new_id().into(),
            plant.common_name.into(),
            plant.scientific_name.into(),
            i32::from(plant.watering_interval_days).into(),
            plant.light.into(),
            (*personality).into(),
            plant.restricted_reason.is_some().into(),
            plant.restricted_reason.map(str::to_owned).into(),
            now.into(),
            now.into(),
        ]);
    }
    insert.on_conflict(OnConflict::column("common_name").do_nothing().to_owned());
    let catalog_plants = txn.execute(&insert).await?.rows_affected();
    let plant_ids = ids_by(&txn, "catalog_plants", "common_name").await?;

    let mut insert = Query::insert();
    insert.into_table("companion_relationships").columns([
        "id",
        "plant_id",
        "companion_id",
        "kind",
        "reason",
    ]);
    for pair in COMPANIONS {
        let lookup = |name: &str| {
            plant_ids
                .get(name)
                .copied()
                .ok_or_else(|| DbErr::Custom(format!("unknown catalog plant {name}")))
        };
        insert.values_panic([
            new_id().into(),
            lookup(pair.plant)?.into(),
            lookup(pair.companion)?.into(),
            pair.kind.into(),
            pair.reason.into(),
        ]);
    }
    insert.on_conflict(
        OnConflict::columns(["plant_id", "companion_id"])
            .do_nothing()
            .to_owned(),
    );
    let companion_relationships = txn.execute(&insert).await?.rows_affected();

    txn.commit().await?;
    Ok(SeedReport {
        tenants,
        personalities,
        catalog_plants,
        companion_relationships,
    })
}

fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

async fn ids_by<C: ConnectionTrait>(
    db: &C,
    table: &'static str,
    key: &'static str,
) -> Result<HashMap<String, uuid::Uuid>, DbErr> {
    let rows = db
        .query_all(&Query::select().columns(["id", key]).from(table).to_owned())
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok((
                row.try_get::<String>("", key)?,
                row.try_get::<uuid::Uuid>("", "id")?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_catalog_has_at_least_sixty_distinct_plants() {
        let names: HashSet<_> = PLANTS.iter().map(|p| p.common_name).collect();
        assert!(PLANTS.len() >= 60);
        assert_eq!(names.len(), PLANTS.len());
    }

    #[test]
    fn every_companion_pair_names_catalog_plants_once() {
        let names: HashSet<_> = PLANTS.iter().map(|p| p.common_name).collect();
        let mut pairs = HashSet::new();
        for pair in COMPANIONS {
            assert!(names.contains(pair.plant), "{}", pair.plant);
            assert!(names.contains(pair.companion), "{}", pair.companion);
            assert!(pairs.insert((pair.plant, pair.companion)), "{pair:?}");
            assert!(["beneficial", "antagonistic"].contains(&pair.kind));
        }
    }

    #[test]
    fn every_plant_names_a_seeded_personality_and_a_known_light() {
        let keys: HashSet<_> = PERSONALITIES.iter().map(|p| p.key).collect();
        for plant in PLANTS {
            assert!(keys.contains(plant.personality), "{}", plant.common_name);
            assert!(
                ["low", "medium", "bright_indirect", "full_sun"].contains(&plant.light),
                "{}",
                plant.common_name
            );
            assert!(plant.watering_interval_days > 0);
        }
    }

    #[test]
    fn every_personality_has_templates_for_every_intent() {
        assert!(PERSONALITIES.len() >= 4);
        for personality in PERSONALITIES {
            let templates = personality.templates_json();
            for intent in ["greeting", "water", "light", "sad", "default"] {
                let list = templates[intent].as_array().unwrap();
                assert!(!list.is_empty(), "{} {intent}", personality.key);
            }
        }
    }
}
