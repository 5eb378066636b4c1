//! The feature flags every instance shares, in the `feature_flags` table.

use application::{
    flags::{Flag, FlagStore, FlagValues},
    store::StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::OnConflict};

use super::{
    Database, entities::feature_flags, store_error::store_error, transaction::open_on_pool,
};

/// Flags stored in the database, one row per flag.
#[derive(Debug, Clone)]
pub struct SeaOrmFlagStore {
    db: Database,
}

impl SeaOrmFlagStore {
    /// A store over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl FlagStore for SeaOrmFlagStore {
    #[tracing::instrument(name = "db.feature_flags.initialise", skip_all)]
    async fn initialise(&self, initial: &FlagValues, now: DateTime<Utc>) -> Result<(), StoreError> {
        for (flag, enabled) in initial {
            let row = feature_flags::ActiveModel {
                name: Set(flag.as_str().to_owned()),
                enabled: Set(*enabled),
                updated_at: Set(now),
            };
            // Two instances starting together: the first insert wins, the other keeps it.
            feature_flags::Entity::insert(row)
                .on_conflict_do_nothing_on([feature_flags::Column::Name])
                .exec_without_returning(self.db.connection())
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }

    #[tracing::instrument(name = "db.feature_flags.load", skip_all)]
    async fn load(&self) -> Result<FlagValues, StoreError> {
        let rows = feature_flags::Entity::find()
            .all(self.db.connection())
            .await
            .map_err(store_error)?;
        // A row of a flag this release does not know (a newer release wrote it) is skipped.
        Ok(rows
            .into_iter()
            .filter_map(|row| Flag::parse(&row.name).map(|flag| (flag, row.enabled)))
            .collect())
    }

    #[tracing::instrument(name = "db.feature_flags.save", skip_all)]
    async fn save(
        &self,
        changes: &FlagValues,
        now: DateTime<Utc>,
    ) -> Result<FlagValues, StoreError> {
        let transaction = open_on_pool(self.db.connection())
            .await
            .map_err(store_error)?;
        let names: Vec<&str> = changes.keys().map(|flag| flag.as_str()).collect();
        // Locked (on PostgreSQL) until the commit, so that two changes racing on two instances
        // each report the value the other replaced.
        let before: FlagValues = feature_flags::Entity::find()
            .filter(feature_flags::Column::Name.is_in(names))
            .lock_exclusive()
            .all(&transaction)
            .await
            .map_err(store_error)?
            .into_iter()
            .filter_map(|row| Flag::parse(&row.name).map(|flag| (flag, row.enabled)))
            .collect();
        for (flag, enabled) in changes {
            let row = feature_flags::ActiveModel {
                name: Set(flag.as_str().to_owned()),
                enabled: Set(*enabled),
                updated_at: Set(now),
            };
            feature_flags::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(feature_flags::Column::Name)
                        .update_columns([
                            feature_flags::Column::Enabled,
                            feature_flags::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&transaction)
                .await
                .map_err(store_error)?;
        }
        transaction.commit().await.map_err(store_error)?;
        Ok(before)
    }
}
