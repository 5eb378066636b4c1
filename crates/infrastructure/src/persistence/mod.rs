//! The relational database: connection pool, schema migrations and health probes.

mod connection;
mod health;
mod schema;

pub use connection::{Database, DatabaseSettings, PersistenceError};
pub use health::{DatabaseProbe, MigrationsProbe};
pub use schema::SeaOrmSchemaMigrator;
