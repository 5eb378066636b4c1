use std::collections::HashSet;

use application::ops::{SchemaMigrator, SchemaPortError, SchemaState};
use async_trait::async_trait;
use migration::{Migrator, MigratorTrait};

use super::Database;

/// Reads and applies the migrations of the `migration` crate with sea-orm-migration.
#[derive(Debug, Clone)]
pub struct SeaOrmSchemaMigrator {
    database: Database,
}

impl SeaOrmSchemaMigrator {
    /// A migrator over `database`.
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

fn port_error(error: &sea_orm::DbErr) -> SchemaPortError {
    SchemaPortError {
        message: error.to_string(),
    }
}

#[async_trait]
impl SchemaMigrator for SeaOrmSchemaMigrator {
    #[tracing::instrument(name = "db.schema_state", skip_all)]
    async fn state(&self) -> Result<SchemaState, SchemaPortError> {
        let connection = self.database.connection();
        let known: Vec<String> = Migrator::migrations()
            .iter()
            .map(|migration| migration.name().to_owned())
            .collect();
        let recorded: Vec<String> = Migrator::get_migration_models(connection)
            .await
            .map_err(|error| port_error(&error))?
            .into_iter()
            .map(|model| model.version)
            .collect();
        let recorded_set: HashSet<&str> = recorded.iter().map(String::as_str).collect();
        let known_set: HashSet<&str> = known.iter().map(String::as_str).collect();
        Ok(SchemaState {
            applied: known
                .iter()
                .filter(|name| recorded_set.contains(name.as_str()))
                .cloned()
                .collect(),
            pending: known
                .iter()
                .filter(|name| !recorded_set.contains(name.as_str()))
                .cloned()
                .collect(),
            unknown: recorded
                .iter()
                .filter(|name| !known_set.contains(name.as_str()))
                .cloned()
                .collect(),
        })
    }

    #[tracing::instrument(name = "db.migrate", skip_all)]
    async fn apply_pending(&self) -> Result<(), SchemaPortError> {
        Migrator::up(self.database.connection(), None)
            .await
            .map_err(|error| port_error(&error))
    }
}
