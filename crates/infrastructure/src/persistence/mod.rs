//! The relational database: connection pool, schema migrations, health probes and the
//! repositories implementing the application's storage ports.

mod account_standings;
mod audit_log;
mod catalog;
mod change_feed;
mod connection;
mod database_status;
mod entities;
mod executor;
mod flags;
pub mod gardens;
mod health;
mod idempotency;
pub mod identity;
pub mod plants;
mod retention;
mod schema;
pub mod sms;
mod store_error;
mod stores;
mod transaction;
mod unit_of_work;

pub use account_standings::AccountStandingCache;
pub use audit_log::SeaOrmAuditLog;
pub use catalog::SeaOrmCatalogRepository;
pub use change_feed::ChangeFeed;
pub use connection::{Database, DatabaseSettings, PersistenceError, backend_name};
pub use database_status::SeaOrmDatabaseInspector;
pub use flags::SeaOrmFlagStore;
pub use health::{DatabaseProbe, MigrationsProbe};
pub use idempotency::SeaOrmIdempotencyStore;
pub use retention::SeaOrmRetentionStore;
pub use schema::SeaOrmSchemaMigrator;
pub use stores::stores;
pub use unit_of_work::SeaOrmUnitOfWork;
