//! Caches for the catalog snapshot: in process (default), or in Redis, shared by instances.

mod in_process;
mod redis_catalog;

pub use in_process::InProcessCatalogCache;
pub use redis_catalog::RedisCatalogCache;
