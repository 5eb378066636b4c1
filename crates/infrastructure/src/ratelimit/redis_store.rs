use application::ratelimit::{Cell, LimiterUnavailable, RateLimitStore};
use async_trait::async_trait;
use deadpool_redis::redis::cmd;
use domain::ratelimit::Admission;

use crate::redis::RedisPool;

/// GCRA over every key of a request in one script, so that reading and advancing the keys is
/// atomic across every instance: the same rule as `domain::ratelimit::admit`. All or nothing:
/// the charged keys advance only when every key admits the request. A key expires when its
/// quota is whole again. ARGV: now, then (interval, window, charge) per key.
const GCRA_ALL: &str = r"
local now = tonumber(ARGV[1])
local result = {}
local next_tats = {}
local all_allowed = true
for i = 1, #KEYS do
  local interval = tonumber(ARGV[3 * i - 1])
  local window = tonumber(ARGV[3 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local next_tat = tat + interval
  next_tats[i] = next_tat
  if next_tat - now > window then
    all_allowed = false
    result[2 * i - 1] = 0
    result[2 * i] = tat
  else
    result[2 * i - 1] = 1
    result[2 * i] = next_tat
  end
end
if all_allowed then
  for i = 1, #KEYS do
    if ARGV[3 * i + 1] == '1' then
      redis.call('SET', KEYS[i], next_tats[i], 'PX', next_tats[i] - now)
    end
  end
end
return result
";

/// One request given back to each key: its TAT moves back one interval, and a key whose quota
/// is whole again is deleted. ARGV: now, then the interval per key.
const REFUND: &str = r"
local now = tonumber(ARGV[1])
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat then
    local back = tat - tonumber(ARGV[i + 1])
    if back > now then
      redis.call('SET', KEYS[i], back, 'PX', back - now)
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
return 0
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
    #[tracing::instrument(name = "redis.ratelimit.admit_all", skip_all, fields(keys = cells.len()))]
    async fn admit_all(
        &self,
        cells: &[Cell<'_>],
        now_ms: i64,
    ) -> Result<Vec<Admission>, LimiterUnavailable> {
        let mut command = cmd("EVAL");
        command.arg(GCRA_ALL).arg(cells.len());
        for cell in cells {
            command.arg(format!("{}{}", self.prefix, cell.key));
        }
        command.arg(now_ms);
        for cell in cells {
            command
                .arg(cell.quota.interval_ms())
                .arg(cell.quota.window_ms())
                .arg(u8::from(cell.charge));
        }
        let flat: Vec<i64> = self
            .redis
            .query(&command)
            .await
            .map_err(|error| LimiterUnavailable(error.to_string()))?;
        if flat.len() != cells.len() * 2 {
            return Err(LimiterUnavailable(format!(
                "the rate-limit script answered {} values for {} keys",
                flat.len(),
                cells.len()
            )));
        }
        Ok(flat
            .chunks_exact(2)
            .map(|pair| Admission {
                allowed: pair[0] == 1,
                tat_ms: pair[1],
            })
            .collect())
    }

    #[tracing::instrument(name = "redis.ratelimit.refund", skip_all, fields(keys = cells.len()))]
    async fn refund(&self, cells: &[Cell<'_>], now_ms: i64) -> Result<(), LimiterUnavailable> {
        let mut command = cmd("EVAL");
        command.arg(REFUND).arg(cells.len());
        for cell in cells {
            command.arg(format!("{}{}", self.prefix, cell.key));
        }
        command.arg(now_ms);
        for cell in cells {
            command.arg(cell.quota.interval_ms());
        }
        let _: i64 = self
            .redis
            .query(&command)
            .await
            .map_err(|error| LimiterUnavailable(error.to_string()))?;
        Ok(())
    }
}
