use application::ops::{HealthProbe, ProbeResult, SchemaMigrator};
use async_trait::async_trait;
use domain::ops::{CheckStatus, Dependency};
use sea_orm::{ConnectionTrait, Statement};

use super::{Database, SeaOrmSchemaMigrator};

/// Checks that the database answers a trivial query through the pool.
#[derive(Debug, Clone)]
pub struct DatabaseProbe {
    database: Database,
}

impl DatabaseProbe {
    /// A probe over `database`.
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

#[async_trait]
impl HealthProbe for DatabaseProbe {
    fn dependency(&self) -> Dependency {
        Dependency::Database
    }

    #[tracing::instrument(name = "db.ping", skip_all)]
    async fn probe(&self) -> ProbeResult {
        let connection = self.database.connection();
        let ping = Statement::from_string(connection.get_database_backend(), "SELECT 1");
        match connection.execute_raw(ping).await {
            Ok(_) => ProbeResult::new(CheckStatus::Up),
            Err(error) => {
                tracing::warn!(error = %error, "database ping failed");
                ProbeResult::with_detail(CheckStatus::Down, "database unreachable")
            }
        }
    }
}

/// Checks that the database schema matches this binary's migrations.
#[derive(Debug, Clone)]
pub struct MigrationsProbe {
    migrator: SeaOrmSchemaMigrator,
}

impl MigrationsProbe {
    /// A probe over `database`.
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self {
            migrator: SeaOrmSchemaMigrator::new(database),
        }
    }
}

#[async_trait]
impl HealthProbe for MigrationsProbe {
    fn dependency(&self) -> Dependency {
        Dependency::Migrations
    }

    async fn probe(&self) -> ProbeResult {
        match self.migrator.state().await {
            Ok(state) if state.is_current() => ProbeResult::new(CheckStatus::Up),
            Ok(state) => ProbeResult::with_detail(
                CheckStatus::Degraded,
                format!(
                    "{} pending, {} unknown",
                    state.pending.len(),
                    state.unknown.len()
                ),
            ),
            Err(_) => ProbeResult::with_detail(CheckStatus::Down, "schema unreadable"),
        }
    }
}
