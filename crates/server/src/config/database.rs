//! The database and Redis: DATABASE_URL, DB_*, REDIS_*, AUTO_MIGRATE.

use infrastructure::{persistence::DatabaseSettings, redis::RedisSettings};

use super::{
    parse::Reader,
    settings::{Environment, millis, secs},
};
use domain::secret::Secret;

/// Where development and test keep their data when DATABASE_URL is unset.
const DEVELOPMENT_DATABASE_URL: &str = "sqlite://plant-texts.db?mode=rwc";

/// The stores and how the schema is brought up to date.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    /// The database every query goes to.
    pub database: DatabaseSettings,
    /// Redis, when configured.
    pub redis: Option<RedisSettings>,
    /// Whether pending migrations are applied at startup.
    pub auto_migrate: bool,
}

impl StorageSettings {
    pub(super) fn read(r: &mut Reader, environment: Environment) -> Self {
        let deployed = environment.is_deployed();
        let database_url = match r.text("DATABASE_URL") {
            Some(url) if deployed && !is_postgres(&url) => {
                r.problem(
                    "DATABASE_URL",
                    format!("must be a postgres:// URL in {}", environment.as_str()),
                );
                url
            }
            Some(url) if !is_postgres(&url) && !url.starts_with("sqlite:") => {
                r.problem("DATABASE_URL", "must start with sqlite: or postgres://");
                url
            }
            Some(url) => url,
            None if deployed => {
                r.problem(
                    "DATABASE_URL",
                    format!("is required in {}", environment.as_str()),
                );
                String::new()
            }
            None => DEVELOPMENT_DATABASE_URL.to_owned(),
        };
        let pool_size = r.number("DB_POOL_SIZE", 20_u32, 1, 1000);
        let min_connections = r.number("DB_MIN_CONNECTIONS", 2_u32, 0, 1000);
        if min_connections > pool_size {
            r.problem("DB_MIN_CONNECTIONS", "must not exceed DB_POOL_SIZE");
        }
        let database = DatabaseSettings {
            url: Secret::new(database_url),
            pool_size,
            min_connections,
            acquire_timeout: secs(r.number("DB_ACQUIRE_TIMEOUT_SECS", 5, 1, 600)),
            idle_timeout: secs(r.number("DB_IDLE_TIMEOUT_SECS", 600, 1, 86_400)),
            max_lifetime: secs(r.number("DB_MAX_LIFETIME_SECS", 3600, 1, 86_400)),
            statement_timeout: millis(r.number("DB_STATEMENT_TIMEOUT_MS", 5000, 1, 3_600_000)),
            slow_statement_threshold: millis(r.number("DB_SLOW_QUERY_MS", 200, 1, 3_600_000)),
            account_standing_ttl: millis(r.number("AUTH_CACHE_TTL_MS", 5000, 0, 60_000)),
        };

        let redis_url = r.text("REDIS_URL");
        if redis_url
            .as_deref()
            .is_some_and(|url| !url.starts_with("redis://") && !url.starts_with("rediss://"))
        {
            r.problem("REDIS_URL", "must start with redis:// or rediss://");
        }
        let connect_retries = r.number("REDIS_CONNECT_RETRIES", 5_u32, 0, 20);
        let redis_timeout = millis(r.number("REDIS_TIMEOUT_MS", 250, 1, 60_000));
        let redis = redis_url.map(|url| RedisSettings {
            url: Secret::new(url),
            connect_retries,
            timeout: redis_timeout,
        });
        Self {
            database,
            redis,
            auto_migrate: r.boolean("AUTO_MIGRATE", !deployed),
        }
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}
