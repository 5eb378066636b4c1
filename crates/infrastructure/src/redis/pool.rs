use std::time::Duration;

use application::ops::{HealthProbe, ProbeResult};
use async_trait::async_trait;
use deadpool_redis::{Config, Pool, Runtime, Timeouts};
use domain::{
    ops::{CheckStatus, Dependency},
    secret::Secret,
};

/// How to reach Redis.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `redis://...`; may hold a password.
    pub url: Secret,
    /// How many times to try the first connection before giving up.
    pub connect_retries: u32,
    /// Bound on every pool wait, connection and command.
    pub timeout: Duration,
}

/// A Redis failure, translated at the seam.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// The URL could not be used to build a pool.
    #[error("the Redis URL is not valid")]
    InvalidUrl,
    /// Redis did not answer in time or refused the connection.
    #[error("Redis is unavailable: {0}")]
    Unavailable(String),
}

/// A pool of Redis connections whose every wait and command is bounded by a timeout, so that a
/// dead Redis costs a caller milliseconds instead of a hang. The pool reconnects by itself.
#[derive(Clone)]
pub struct RedisPool {
    pool: Pool,
    timeout: Duration,
}

impl std::fmt::Debug for RedisPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPool")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisPool {
    /// Builds the pool. No connection is made yet: connections are opened on demand and
    /// re-opened by themselves after Redis comes back.
    ///
    /// # Errors
    /// [`RedisError::InvalidUrl`] for a URL that cannot be used.
    pub fn new(settings: &RedisSettings) -> Result<Self, RedisError> {
        let mut config = Config::from_url(settings.url.expose());
        let mut pool_config = deadpool_redis::PoolConfig::new(16);
        pool_config.timeouts = Timeouts {
            wait: Some(settings.timeout),
            create: Some(settings.timeout),
            recycle: Some(settings.timeout),
        };
        config.pool = Some(pool_config);
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|_| RedisError::InvalidUrl)?;
        Ok(Self {
            pool,
            timeout: settings.timeout,
        })
    }

    /// Waits until Redis answers `PING`, retrying with exponential backoff (100 ms doubling)
    /// up to `retries` times.
    ///
    /// # Errors
    /// [`RedisError::Unavailable`] when every attempt failed.
    #[tracing::instrument(name = "redis.connect", skip_all, fields(retries))]
    pub async fn wait_until_ready(&self, retries: u32) -> Result<(), RedisError> {
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            match self.ping().await {
                Ok(()) => return Ok(()),
                Err(error) if attempt >= retries => return Err(error),
                Err(error) => {
                    attempt += 1;
                    tracing::warn!(attempt, delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), %error, "Redis not ready, retrying");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
            }
        }
    }

    /// Runs one command within the timeout (pool wait included).
    ///
    /// # Errors
    /// [`RedisError::Unavailable`] when Redis does not answer in time or fails the command.
    pub async fn query<T: deadpool_redis::redis::FromRedisValue>(
        &self,
        command: &deadpool_redis::redis::Cmd,
    ) -> Result<T, RedisError> {
        let attempt = async {
            let mut connection = self
                .pool
                .get()
                .await
                .map_err(|error| RedisError::Unavailable(error.to_string()))?;
            command
                .query_async(&mut connection)
                .await
                .map_err(|error| RedisError::Unavailable(error.to_string()))
        };
        tokio::time::timeout(self.timeout, attempt)
            .await
            .map_err(|_| RedisError::Unavailable("timed out".to_owned()))?
    }

    /// Sends `PING` and expects `PONG`, within the timeout.
    ///
    /// # Errors
    /// [`RedisError::Unavailable`] when Redis does not answer in time or answers wrongly.
    pub async fn ping(&self) -> Result<(), RedisError> {
        let answer: String = self.query(&deadpool_redis::redis::cmd("PING")).await?;
        if answer == "PONG" {
            Ok(())
        } else {
            Err(RedisError::Unavailable(format!(
                "unexpected answer {answer}"
            )))
        }
    }
}

/// Health probe for Redis: `up` when it answers `PING`, `down` otherwise.
#[derive(Debug, Clone)]
pub struct RedisProbe {
    redis: RedisPool,
}

impl RedisProbe {
    /// A probe over `redis`.
    #[must_use]
    pub fn new(redis: RedisPool) -> Self {
        Self { redis }
    }
}

#[async_trait]
impl HealthProbe for RedisProbe {
    fn dependency(&self) -> Dependency {
        Dependency::Redis
    }

    #[tracing::instrument(name = "redis.ping", skip_all)]
    async fn probe(&self) -> ProbeResult {
        match self.redis.ping().await {
            Ok(()) => ProbeResult::new(CheckStatus::Up),
            Err(_) => ProbeResult::with_detail(CheckStatus::Down, "redis unreachable"),
        }
    }
}
