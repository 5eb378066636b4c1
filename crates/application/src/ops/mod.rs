//! Operations: health and readiness of the service, the database schema check at startup, and
//! the daily retention job.

mod health;
mod retention;
mod schema;

pub use health::{
    CheckHealth, DependencyReport, HealthProbe, HealthReport, ProbeResult, StaticProbe,
};
pub use retention::{RETENTION_JOB, Retention, RetentionReport, RetentionStore};
pub use schema::{EnsureSchema, SchemaCheckError, SchemaMigrator, SchemaPortError, SchemaState};
