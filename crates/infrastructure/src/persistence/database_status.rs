//! The database as an operator sees it: migrations, pools, row counts.

use application::{
    ops::{
        ConnectionPools, DatabaseInspector, DatabaseStatus, PoolUsage, SchemaMigrator, TableRows,
    },
    store::StoreError,
};
use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

use super::{Database, SeaOrmSchemaMigrator, store_error::store_error};

/// Reads the status of the primary database.
#[derive(Debug, Clone)]
pub struct SeaOrmDatabaseInspector {
    database: Database,
}

impl SeaOrmDatabaseInspector {
    /// An inspector of `database`.
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

impl ConnectionPools for SeaOrmDatabaseInspector {
    fn usage(&self) -> Vec<PoolUsage> {
        vec![pool_usage("primary", self.database.connection())]
    }
}

#[async_trait]
impl DatabaseInspector for SeaOrmDatabaseInspector {
    #[tracing::instrument(name = "db.status", skip_all)]
    async fn status(&self) -> Result<DatabaseStatus, StoreError> {
        let connection = self.database.connection();
        let schema = SeaOrmSchemaMigrator::new(self.database.clone())
            .state()
            .await
            .map_err(|error| StoreError::Unexpected(Box::new(error)))?;
        let backend = connection.get_database_backend();
        let (tables, estimated) = match backend {
            DatabaseBackend::Postgres => (estimated_rows(connection).await?, true),
            _ => (counted_rows(connection).await?, false),
        };
        Ok(DatabaseStatus {
            backend: if backend == DatabaseBackend::Postgres {
                "postgres"
            } else {
                "sqlite"
            },
            schema,
            pools: self.usage(),
            tables,
            row_counts_estimated: estimated,
            // No read replica is wired; its lag is reported once one is.
            replica_lag_seconds: None,
        })
    }
}

fn pool_usage(pool: &'static str, connection: &DatabaseConnection) -> PoolUsage {
    let (max, open, idle) = match connection.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = connection.get_postgres_connection_pool();
            (
                pool.options().get_max_connections(),
                pool.size(),
                pool.num_idle(),
            )
        }
        _ => {
            let pool = connection.get_sqlite_connection_pool();
            (
                pool.options().get_max_connections(),
                pool.size(),
                pool.num_idle(),
            )
        }
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    PoolUsage {
        pool,
        max,
        idle,
        in_use: open.saturating_sub(idle),
    }
}

/// PostgreSQL: the planner's estimates, so that the status of a large database costs no scan.
/// A table never analysed has no estimate (-1) and falls back to the statistics collector's
/// live rows.
async fn estimated_rows(connection: &DatabaseConnection) -> Result<Vec<TableRows>, StoreError> {
    let rows = connection
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT c.relname AS table_name, \
                    CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint \
                         ELSE COALESCE(s.n_live_tup, 0) END AS row_estimate \
             FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
             ORDER BY c.relname",
        ))
        .await
        .map_err(store_error)?;
    rows.iter()
        .map(|row| {
            let table: String = row.try_get("", "table_name").map_err(store_error)?;
            let rows: i64 = row.try_get("", "row_estimate").map_err(store_error)?;
            Ok(TableRows {
                table,
                rows: u64::try_from(rows).unwrap_or(0),
            })
        })
        .collect()
}

/// SQLite: exact counts (an embedded database is small, and has no estimates).
async fn counted_rows(connection: &DatabaseConnection) -> Result<Vec<TableRows>, StoreError> {
    let backend = connection.get_database_backend();
    let names = connection
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name",
        ))
        .await
        .map_err(store_error)?;
    let mut tables = Vec::with_capacity(names.len());
    for row in names {
        let table: String = row.try_get("", "name").map_err(store_error)?;
        // A table name cannot be a bound parameter; it comes from the catalog, quoted.
        let count = connection
            .query_one_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT COUNT(*) AS row_count FROM \"{}\"",
                    table.replace('"', "\"\"")
                ),
            ))
            .await
            .map_err(store_error)?;
        let rows: i64 = match count {
            Some(count) => count.try_get("", "row_count").map_err(store_error)?,
            None => 0,
        };
        tables.push(TableRows {
            table,
            rows: u64::try_from(rows).unwrap_or(0),
        });
    }
    Ok(tables)
}
