//! Operations: health and readiness of the service, and the database schema check at startup.

mod health;
mod schema;

pub use health::{
    CheckHealth, DependencyReport, HealthProbe, HealthReport, ProbeResult, StaticProbe,
};
pub use schema::{EnsureSchema, SchemaCheckError, SchemaMigrator, SchemaPortError, SchemaState};
