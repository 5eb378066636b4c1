//! What changed in the database, as this process last heard, so that hot reads need not ask:
//! PostgreSQL announces each catalog change (`LISTEN catalog_changed`, sent by the triggers that
//! move the catalog revision, migration 000013) and each change to an account's standing
//! (`LISTEN account_changed`, migration 000014); SQLite, which cannot announce, is polled for
//! the catalog, and serves one process, which drops the standings it changes itself.
//!
//! Until the feed is in step with the database — before [`Database::follow_changes`] has read
//! the revision, and whenever its connection is lost — it knows nothing, and readers fall back
//! to asking the database, as they did before there was a feed.
//!
//! The listener has a connection of its own, outside the pool: it neither takes a connection
//! from requests (a pool of one would starve) nor keeps the pool from closing at shutdown. It
//! reads the revision again over that connection every [`RECHECK_INTERVAL`] without a
//! notification, so that a connection silently cut (no reset from a NAT or a failover) or a
//! trigger that stopped notifying costs at most that long.

use std::{
    str::FromStr as _,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use sea_orm::{
    ConnectionTrait as _, DbBackend, DbErr, Statement,
    sqlx::{
        self,
        postgres::{PgConnectOptions, PgListener, PgPoolOptions},
    },
};

use domain::identity::UserId;

use super::{AccountStandingCache, Database};

/// The channel the catalog triggers notify on, with the new revision as payload.
const CATALOG_CHANNEL: &str = "catalog_changed";

/// The channel the `users` trigger notifies on, with the user's id as payload.
const ACCOUNT_CHANNEL: &str = "account_changed";

/// The counter the catalog triggers move; a fixed statement on the primary key.
pub(crate) const CATALOG_REVISION_SQL: &str = "SELECT revision FROM catalog_revision WHERE id = 1";

/// Held while the feed is not in step with the database.
const UNKNOWN: i64 = -1;

/// How long to wait before listening again after the connection was lost.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// How the listener's connection shows in `pg_stat_activity`.
const LISTENER_APPLICATION_NAME: &str = "plant-texts-change-feed";

/// Longest the feed goes without reading the revision itself while no notification comes.
const RECHECK_INTERVAL: Duration = Duration::from_secs(30);

/// The changes this process has heard of. Clones share what they heard.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    catalog_revision: Arc<AtomicI64>,
    accounts: AccountStandingCache,
}

impl ChangeFeed {
    /// A feed out of step, whose account standings live `account_standing_ttl`.
    #[must_use]
    pub fn new(account_standing_ttl: Duration) -> Self {
        Self {
            catalog_revision: Arc::new(AtomicI64::new(UNKNOWN)),
            accounts: AccountStandingCache::with_ttl(account_standing_ttl),
        }
    }

    /// The catalog revision last heard of, or `None` while the feed is not in step.
    #[must_use]
    pub fn catalog_revision(&self) -> Option<i64> {
        let revision = self.catalog_revision.load(Ordering::Acquire);
        (revision != UNKNOWN).then_some(revision)
    }

    /// The revision as last read or announced. Not a maximum: after a restore or a migration
    /// rolled back the counter goes down, and the feed must follow it.
    fn hear_catalog_revision(&self, revision: i64) {
        self.catalog_revision.store(revision, Ordering::Release);
    }

    fn lose_step(&self) {
        self.catalog_revision.store(UNKNOWN, Ordering::Release);
        self.accounts.lose_step();
    }

    /// Account standings held while the feed is in step.
    #[must_use]
    pub const fn accounts(&self) -> &AccountStandingCache {
        &self.accounts
    }

    fn hear_account_change(&self, payload: &str) {
        match payload.parse::<uuid::Uuid>() {
            Ok(user) => self.accounts.forget(UserId::from_uuid(user)),
            Err(_) => self.accounts.forget_all(),
        }
    }
}

/// The stored catalog revision, asked of the database.
///
/// # Errors
/// The driver's error, or a missing row.
pub(crate) async fn read_catalog_revision(database: &Database) -> Result<i64, DbErr> {
    let db = database.connection();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            CATALOG_REVISION_SQL,
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the catalog revision row".to_owned()))?;
    row.try_get("", "revision")
}

impl Database {
    /// Keeps [`Self::changes`] in step with the database until the task running it is dropped:
    /// on PostgreSQL by listening for notifications (on a connection of its own), on SQLite by
    /// reading the revision every `poll_interval`. Never returns.
    pub async fn follow_changes(&self, poll_interval: Duration) {
        if self.connection().get_database_backend() == DbBackend::Postgres {
            loop {
                if let Err(error) = self.listen_for_changes().await {
                    tracing::warn!(%error, "lost the database change feed; reading the catalog revision per request until it is back");
                }
                self.changes().lose_step();
                tokio::time::sleep(RECONNECT_DELAY).await;
            }
        } else {
            let mut ticks = tokio::time::interval(poll_interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match read_catalog_revision(self).await {
                    Ok(revision) => {
                        self.changes().hear_catalog_revision(revision);
                        // One process per SQLite file: its own commits are all there is to hear.
                        self.changes().accounts.step_in();
                    }
                    Err(error) => {
                        tracing::warn!(%error, "the catalog revision could not be polled");
                        self.changes().lose_step();
                    }
                }
            }
        }
    }

    /// Listens on a connection of its own until it is lost (`Ok`) or fails (`Err`).
    async fn listen_for_changes(&self) -> Result<(), sqlx::Error> {
        let options = PgConnectOptions::from_str(self.url().expose())?
            .application_name(LISTENER_APPLICATION_NAME);
        // A pool of one that never retires its connection: PgListener reconnects through it.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(options)
            .await?;
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.ignore_pool_close_event(true);
        // A lost connection must end this loop at once (and the feed's step with it), not be
        // mended silently while notifications go missing.
        listener.eager_reconnect(false);
        listener
            .listen_all([CATALOG_CHANNEL, ACCOUNT_CHANNEL])
            .await?;
        // Read after LISTEN: a change committed in between is then both read and announced,
        // never missed. Standings start from empty for the same reason.
        self.changes()
            .hear_catalog_revision(revision_over(&mut listener).await?);
        self.changes().accounts.step_in();
        tracing::debug!("following the database change feed");
        loop {
            match tokio::time::timeout(RECHECK_INTERVAL, listener.try_recv()).await {
                Ok(Ok(Some(notification))) if notification.channel() == ACCOUNT_CHANNEL => {
                    self.changes().hear_account_change(notification.payload());
                }
                Ok(Ok(Some(notification))) => {
                    let revision = match notification.payload().parse::<i64>() {
                        Ok(revision) => revision,
                        Err(_) => revision_over(&mut listener).await?,
                    };
                    self.changes().hear_catalog_revision(revision);
                }
                Ok(Ok(None)) => return Ok(()),
                Ok(Err(error)) => return Err(error),
                // Quiet for a while: read it ourselves, which also proves the connection alive.
                Err(_quiet) => self
                    .changes()
                    .hear_catalog_revision(revision_over(&mut listener).await?),
            }
        }
    }
}

/// The stored catalog revision, read over the listener's own connection; a connection that
/// does not answer within [`RECONNECT_DELAY`] times five counts as lost.
async fn revision_over(listener: &mut PgListener) -> Result<i64, sqlx::Error> {
    tokio::time::timeout(
        RECONNECT_DELAY * 5,
        sqlx::query_scalar::<_, i64>(CATALOG_REVISION_SQL).fetch_one(listener),
    )
    .await
    .map_err(|_| sqlx::Error::PoolTimedOut)?
}
