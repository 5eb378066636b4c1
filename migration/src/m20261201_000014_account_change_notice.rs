//! PostgreSQL announces every change to what an access token is checked against — a user's
//! token version, active flag or role, or the user's deletion — on the `account_changed`
//! channel, with the user's id as payload (`pg_notify`, delivered at commit). Instances hold
//! account standings for a few seconds and drop one when they hear of its change, so that a
//! revocation made through one instance takes effect on all of them. SQLite serves one process,
//! which drops its own entries as it commits.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            let connection = manager.get_connection();
            connection
                .execute_unprepared(
                    "CREATE OR REPLACE FUNCTION announce_account_change() RETURNS trigger AS $$ \
                     BEGIN PERFORM pg_notify('account_changed', OLD.id::text); \
                     RETURN NULL; END; $$ LANGUAGE plpgsql",
                )
                .await?;
            connection
                .execute_unprepared(
                    "CREATE TRIGGER users_account_changed \
                     AFTER UPDATE OF token_version, is_active, role OR DELETE ON users \
                     FOR EACH ROW EXECUTE FUNCTION announce_account_change()",
                )
                .await?;
            // TRUNCATE fires no row trigger: it announces every account ('*').
            connection
                .execute_unprepared(
                    "CREATE OR REPLACE FUNCTION announce_all_accounts_changed() RETURNS trigger \
                     AS $$ BEGIN PERFORM pg_notify('account_changed', '*'); \
                     RETURN NULL; END; $$ LANGUAGE plpgsql",
                )
                .await?;
            connection
                .execute_unprepared(
                    "CREATE TRIGGER users_truncated AFTER TRUNCATE ON users \
                     FOR EACH STATEMENT EXECUTE FUNCTION announce_all_accounts_changed()",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            let connection = manager.get_connection();
            connection
                .execute_unprepared("DROP TRIGGER IF EXISTS users_truncated ON users")
                .await?;
            connection
                .execute_unprepared("DROP FUNCTION IF EXISTS announce_all_accounts_changed()")
                .await?;
            connection
                .execute_unprepared("DROP TRIGGER IF EXISTS users_account_changed ON users")
                .await?;
            connection
                .execute_unprepared("DROP FUNCTION IF EXISTS announce_account_change()")
                .await?;
        }
        Ok(())
    }
}
