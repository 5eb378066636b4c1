//! A catalog revision every change moves: triggers on the three catalog tables count each
//! insert, update and delete, so that an edited companion reason or personality text — which
//! neither a row count nor a species' `updated_at` shows — invalidates every cached snapshot,
//! whoever made the change (the seed, an operator's SQL).

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum CatalogRevision {
    Table,
    Id,
    Revision,
}

const TABLES: [&str; 3] = ["catalog_plants", "companion_relationships", "personalities"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CatalogRevision::Table)
                    .if_not_exists()
                    .col(integer(CatalogRevision::Id).primary_key())
                    .col(big_integer(CatalogRevision::Revision).default(0))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("INSERT INTO catalog_revision (id, revision) VALUES (1, 0)")
            .await?;
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE OR REPLACE FUNCTION bump_catalog_revision() RETURNS trigger AS $$ \
                     BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1; \
                     RETURN NULL; END; $$ LANGUAGE plpgsql",
                )
                .await?;
                for table in TABLES {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_revision AFTER INSERT OR UPDATE OR DELETE OR \
                         TRUNCATE ON {table} FOR EACH STATEMENT \
                         EXECUTE FUNCTION bump_catalog_revision()"
                    ))
                    .await?;
                }
            }
            _ => {
                for table in TABLES {
                    for event in ["INSERT", "UPDATE", "DELETE"] {
                        let name = event.to_lowercase();
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER {table}_revision_{name} AFTER {event} ON {table} \
                             BEGIN UPDATE catalog_revision SET revision = revision + 1 \
                             WHERE id = 1; END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                for table in TABLES {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS {table}_revision ON {table}"
                    ))
                    .await?;
                }
                db.execute_unprepared("DROP FUNCTION IF EXISTS bump_catalog_revision()")
                    .await?;
            }
            _ => {
                for table in TABLES {
                    for event in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS {table}_revision_{event}"
                        ))
                        .await?;
                    }
                }
            }
        }
        manager
            .drop_table(Table::drop().table(CatalogRevision::Table).to_owned())
            .await
    }
}
