//! Redis: the shared connection pool and its health probe.

mod pool;

pub use pool::{RedisError, RedisPool, RedisProbe, RedisSettings};
