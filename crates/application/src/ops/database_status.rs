//! What an operator asks of the database: which migrations ran, how busy the pools are, how
//! many rows each table holds, and how far a replica lags.

use async_trait::async_trait;

use super::SchemaState;
use crate::store::StoreError;

/// One connection pool's occupancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// `primary`, or `replica` for the read replica.
    pub pool: &'static str,
    /// Its most connections.
    pub max: u32,
    /// Open connections nobody holds.
    pub idle: u32,
    /// Open connections lent out.
    pub in_use: u32,
}

/// One table's row count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRows {
    /// The table.
    pub table: String,
    /// Its rows: exact, or the planner's estimate when [`DatabaseStatus::row_counts_estimated`].
    pub rows: u64,
}

/// The database as an operator sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseStatus {
    /// `postgres` or `sqlite`.
    pub backend: &'static str,
    /// Applied, pending and unknown migrations.
    pub schema: SchemaState,
    /// Every pool's occupancy.
    pub pools: Vec<PoolUsage>,
    /// Rows per table, by table name.
    pub tables: Vec<TableRows>,
    /// Whether the row counts are estimates (PostgreSQL's statistics) rather than counts.
    pub row_counts_estimated: bool,
    /// How far the read replica's replay is behind, in seconds; `None` without a replica.
    pub replica_lag_seconds: Option<f64>,
}

/// Reads the pools' occupancy; cheap enough for every metrics scrape (no I/O).
pub trait ConnectionPools: Send + Sync {
    /// Every pool's occupancy now.
    fn usage(&self) -> Vec<PoolUsage>;
}

/// Looks at the database for an operator.
#[async_trait]
pub trait DatabaseInspector: ConnectionPools {
    /// The database's status now.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read.
    async fn status(&self) -> Result<DatabaseStatus, StoreError>;
}
