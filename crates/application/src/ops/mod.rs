//! Operations: health and readiness of the service, the database's status for operators, the database schema check at startup, and
//! the daily retention job.

mod database_status;
mod health;
mod retention;
mod schema;

pub use database_status::{
    ConnectionPools, DatabaseInspector, DatabaseStatus, PoolUsage, TableRows,
};
pub use health::{
    CheckHealth, DependencyReport, HealthProbe, HealthReport, ProbeResult, StaticProbe,
};
pub use retention::{RETENTION_JOB, Retention, RetentionReport, RetentionStore};
pub use schema::{EnsureSchema, SchemaCheckError, SchemaMigrator, SchemaPortError, SchemaState};
