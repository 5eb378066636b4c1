//! PostgreSQL announces every catalog change: the function the catalog triggers run now also
//! sends the new revision on the `catalog_changed` channel (`pg_notify`, delivered at commit),
//! so that every instance can hold the catalog in memory and hear of a change instead of asking
//! for the revision on each request. SQLite has no notifications; instances poll it instead.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE OR REPLACE FUNCTION bump_catalog_revision() RETURNS trigger AS $$ \
                     DECLARE next_revision BIGINT; \
                     BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1 \
                     RETURNING revision INTO next_revision; \
                     PERFORM pg_notify('catalog_changed', next_revision::text); \
                     RETURN NULL; END; $$ LANGUAGE plpgsql",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE OR REPLACE FUNCTION bump_catalog_revision() RETURNS trigger AS $$ \
                     BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1; \
                     RETURN NULL; END; $$ LANGUAGE plpgsql",
                )
                .await?;
        }
        Ok(())
    }
}
