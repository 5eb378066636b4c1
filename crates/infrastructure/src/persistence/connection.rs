use std::time::Duration;

use domain::secret::Secret;
use sea_orm::{ConnectOptions, DatabaseConnection, DbErr};

use super::ChangeFeed;

/// A pooled connection used within this long is handed out without a round trip to check it.
///
/// The pool's default pings every connection before every statement, which, with the ping the
/// pool sends when a connection comes back, made a one-statement read three round trips. A
/// connection that has just answered is very likely still there (HikariCP skips its check
/// within 500 ms for the same reason); one that broke since fails its statement, which fails
/// that request, and is then closed when it goes back to the pool (its unanswered statement
/// makes the release fail; vendor/README.md) instead of being reused.
const PING_IF_IDLE_FOR: Duration = Duration::from_millis(500);

/// How to reach the database and size its pool.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `sqlite://...` or `postgres://...`; may hold credentials.
    pub url: Secret,
    /// Most connections the pool opens.
    pub pool_size: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// How long a request waits for a free connection.
    pub acquire_timeout: Duration,
    /// Idle connections above the minimum are closed after this long.
    pub idle_timeout: Duration,
    /// Connections are replaced after this long.
    pub max_lifetime: Duration,
    /// PostgreSQL cancels a statement that runs longer than this.
    pub statement_timeout: Duration,
    /// Statements slower than this are logged at `warn`.
    pub slow_statement_threshold: Duration,
    /// How long an account's standing is served from memory (zero: never).
    pub account_standing_ttl: Duration,
}

/// A failure to open the database.
#[derive(Debug, thiserror::Error)]
pub enum PersistenceError {
    /// The database could not be reached or refused the connection.
    #[error("could not connect to the {backend} database")]
    Connect {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The driver's error.
        #[source]
        source: DbErr,
    },
}

/// The application's connection pool.
#[derive(Debug, Clone)]
pub struct Database {
    connection: DatabaseConnection,
    changes: ChangeFeed,
    /// For the change feed's own connection.
    url: Secret,
}

impl Database {
    /// Opens a pool as `settings` say. An in-memory SQLite database gets exactly one connection,
    /// kept for the life of the pool, because every SQLite connection to `:memory:` is a database
    /// of its own.
    ///
    /// # Errors
    /// [`PersistenceError::Connect`] when the first connection cannot be made.
    #[tracing::instrument(name = "db.connect", skip_all, fields(backend = backend_name(settings.url.expose())))]
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self, PersistenceError> {
        let url = settings.url.expose();
        let mut options = ConnectOptions::new(url);
        if is_in_memory_sqlite(url) {
            options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        } else {
            options
                .max_connections(settings.pool_size)
                .min_connections(settings.min_connections)
                .idle_timeout(settings.idle_timeout)
                .max_lifetime(settings.max_lifetime);
        }
        options
            .acquire_timeout(settings.acquire_timeout)
            .connect_timeout(settings.acquire_timeout)
            .statement_timeout(settings.statement_timeout)
            .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
            .sqlx_logging(true)
            .sqlx_logging_level(log::LevelFilter::Trace)
            .sqlx_slow_statements_logging_settings(
                log::LevelFilter::Warn,
                settings.slow_statement_threshold,
            );
        let connection = sea_orm::Database::connect(options)
            .await
            .map_err(|source| PersistenceError::Connect {
                backend: backend_name(url),
                source,
            })?;
        tracing::info!(backend = backend_name(url), "database pool open");
        Ok(Self {
            connection,
            changes: ChangeFeed::new(settings.account_standing_ttl),
            url: settings.url.clone(),
        })
    }

    /// The sea-orm connection, for the adapters of this crate and for tooling (migrations, seed).
    #[must_use]
    pub fn connection(&self) -> &DatabaseConnection {
        &self.connection
    }

    /// The URL the pool was opened with (it may hold credentials).
    pub(crate) const fn url(&self) -> &Secret {
        &self.url
    }

    /// What this process has heard changed in the database; kept in step by
    /// [`Self::follow_changes`]. Clones of the handle share it.
    #[must_use]
    pub const fn changes(&self) -> &ChangeFeed {
        &self.changes
    }

    /// The database, timing every statement into `metrics` (`db_query_duration_seconds`).
    #[must_use]
    pub fn recording_into(mut self, metrics: application::metrics::Metrics) -> Self {
        self.connection
            .set_metric_callback(move |info| metrics.record_db_query(info.elapsed, info.failed));
        self
    }

    /// Calls `observer` with the SQL of every statement run through this handle and the clones
    /// made from it afterwards (tests that count queries); replaces [`Self::recording_into`].
    #[must_use]
    pub fn observing_statements(mut self, observer: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.connection
            .set_metric_callback(move |info| observer(&info.statement.sql));
        self
    }

    /// Closes every connection of the pool, waiting for the ones in use to be returned.
    ///
    /// # Errors
    /// The driver's error when the pool cannot be closed cleanly.
    pub async fn close(self) -> Result<(), DbErr> {
        self.connection.close().await
    }
}

/// `sqlite` or `postgres`, from the scheme of the URL; never the URL itself (it may hold a password).
#[must_use]
pub fn backend_name(url: &str) -> &'static str {
    if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    }
}

fn is_in_memory_sqlite(url: &str) -> bool {
    url.starts_with("sqlite") && (url.contains(":memory:") || url.contains("mode=memory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_are_named_by_scheme_only() {
        assert_eq!(backend_name("postgres://u:p@h/db"), "postgres");
        assert_eq!(backend_name("postgresql://h/db"), "postgres");
        assert_eq!(backend_name("sqlite://plant-texts.db?mode=rwc"), "sqlite");
    }

    #[test]
    fn in_memory_sqlite_urls_are_recognised() {
        assert!(is_in_memory_sqlite("sqlite::memory:"));
        assert!(is_in_memory_sqlite(
            "sqlite:file:x?mode=memory&cache=shared"
        ));
        assert!(!is_in_memory_sqlite("sqlite://plant-texts.db?mode=rwc"));
        assert!(!is_in_memory_sqlite("postgres://h/db"));
    }
}
