//! Rate-limit stores: Redis (shared by every instance, one atomic script per check) and this
//! process's memory (without Redis, and while Redis is unreachable).

mod in_process;
mod redis_store;

pub use in_process::InProcessRateLimitStore;
pub use redis_store::RedisRateLimitStore;
