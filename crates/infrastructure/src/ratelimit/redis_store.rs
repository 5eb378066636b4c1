use application::ratelimit::{LimiterUnavailable, RateLimitStore};
use async_trait::async_trait;
use deadpool_redis::redis::cmd;
use domain::ratelimit::{Admission, Quota};

use crate::redis::RedisPool;

/// GCRA in one script, so that reading and advancing a key's TAT is atomic across every
/// instance: the same rule as `domain::ratelimit::admit`. The key expires when its quota is
/// whole again.
const GCRA: &str = r"
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
if next_tat - now > window then
  return {0, tat}
end
redis.call('SET', KEYS[1], next_tat, 'PX', next_tat - now)
return {1, next_tat}
";

/// Rate-limit state in Redis, shared by every instance.
#[derive(Debug, Clone)]
pub struct RedisRateLimitStore {
    redis: RedisPool,
    prefix: String,
}

impl RedisRateLimitStore {
    /// A store over `redis`, its keys under `prefix` (`plant-texts:`).
    #[must_use]
    pub fn new(redis: RedisPool, prefix: &str) -> Self {
        Self {
            redis,
            prefix: format!("{prefix}ratelimit:"),
        }
    }
}

#[async_trait]
impl RateLimitStore for RedisRateLimitStore {
    #[tracing::instrument(name = "redis.ratelimit.admit", skip_all)]
    async fn admit(
        &self,
        key: &str,
        quota: Quota,
        now_ms: i64,
    ) -> Result<Admission, LimiterUnavailable> {
        let mut command = cmd("EVAL");
        command
            .arg(GCRA)
            .arg(1)
            .arg(format!("{}{key}", self.prefix))
            .arg(now_ms)
            .arg(quota.interval_ms())
            .arg(quota.window_ms());
        let (allowed, tat_ms): (i64, i64) = self
            .redis
            .query(&command)
            .await
            .map_err(|error| LimiterUnavailable(error.to_string()))?;
        Ok(Admission {
            allowed: allowed == 1,
            tat_ms,
        })
    }
}
