//! Account standings (token version, active, role) held in process for a few seconds, so that an
//! authenticated request need not read its account: GET /plants is then one statement.
//!
//! A cached standing is dropped the moment this process commits a change to it, and — on
//! PostgreSQL — when another process does (the `users` trigger notifies `account_changed`,
//! migration 000014, heard by the change feed). While the feed is not in step (before it starts,
//! and while its connection is lost) nothing is served from the cache nor put into it. Every
//! entry also expires after its time to live (`AUTH_CACHE_TTL_MS`, 5 s by default), which bounds what a notification lost on a silently
//! cut connection could cost.
//!
//! A read that started before an invalidation must not put what it read into the cache after
//! it: every invalidation moves a generation counter, and a read only stores its answer when the
//! generation is still the one it started under.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use domain::identity::{AccountStanding, TenantId, UserId};

/// Most accounts held at once; beyond it the cache starts over (a flood of distinct accounts
/// costs one statement each, as without a cache, never memory).
const MAX_ACCOUNTS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    tenant: TenantId,
    standing: AccountStanding,
    read_at: Instant,
}

/// The cache. Clones share it.
#[derive(Debug, Clone)]
pub struct AccountStandingCache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    entries: Mutex<HashMap<UserId, Entry>>,
    generation: AtomicU64,
    in_step: AtomicBool,
    ttl: Duration,
}

/// What a read must show to store its answer: the generation it started under, and when it
/// started (an entry's age counts from then, not from when the answer came back).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadTicket {
    generation: u64,
    started: Instant,
}

impl AccountStandingCache {
    /// A cache whose entries live `ttl`; out of step until told otherwise.
    #[must_use]
    pub fn with_ttl(ttl: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                entries: Mutex::new(HashMap::new()),
                generation: AtomicU64::new(0),
                in_step: AtomicBool::new(false),
                ttl,
            }),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Entry>> {
        // A panic while holding the map cannot leave an entry half-written: it is plain data.
        self.inner
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached standing of the account, if fresh and the feed is in step.
    pub(crate) fn get(&self, tenant: TenantId, user: UserId) -> Option<AccountStanding> {
        if !self.inner.in_step.load(Ordering::Acquire) {
            return None;
        }
        let entry = *self.entries().get(&user)?;
        (entry.tenant == tenant && entry.read_at.elapsed() < self.inner.ttl)
            .then_some(entry.standing)
    }

    /// Taken before reading an account from the database.
    pub(crate) fn ticket(&self) -> ReadTicket {
        ReadTicket {
            generation: self.inner.generation.load(Ordering::Acquire),
            started: Instant::now(),
        }
    }

    /// Stores what a read found, unless something was invalidated since its ticket was taken
    /// or the feed is out of step.
    pub(crate) fn put(
        &self,
        ticket: ReadTicket,
        tenant: TenantId,
        user: UserId,
        standing: AccountStanding,
    ) {
        if !self.inner.in_step.load(Ordering::Acquire) || self.inner.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries();
        // Checked under the lock that invalidations also take: none can slip in between.
        if self.inner.generation.load(Ordering::Acquire) != ticket.generation {
            return;
        }
        if entries.len() >= MAX_ACCOUNTS && !entries.contains_key(&user) {
            let ttl = self.inner.ttl;
            entries.retain(|_, entry| entry.read_at.elapsed() < ttl);
            if entries.len() >= MAX_ACCOUNTS {
                entries.clear();
            }
        }
        entries.insert(
            user,
            Entry {
                tenant,
                standing,
                read_at: ticket.started,
            },
        );
    }

    /// Drops the account's standing: called once a change to it is committed.
    pub fn forget(&self, user: UserId) {
        let mut entries = self.entries();
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(&user);
    }

    /// Drops everything.
    pub(crate) fn forget_all(&self) {
        let mut entries = self.entries();
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    /// The feed hears every change from now on: start serving, from an empty cache.
    pub(crate) fn step_in(&self) {
        if !self.inner.in_step.swap(true, Ordering::AcqRel) {
            self.forget_all();
        }
    }

    /// The feed may miss changes from now on: serve nothing, store nothing.
    pub(crate) fn lose_step(&self) {
        self.inner.in_step.store(false, Ordering::Release);
        self.forget_all();
    }

    /// Whether the cache serves (for tests).
    #[must_use]
    pub fn is_in_step(&self) -> bool {
        self.inner.in_step.load(Ordering::Acquire)
    }
}

/// The accounts whose standing an open transaction changed: dropped from the cache once it
/// commits, since a read between the change and the commit still sees, and may cache, the old
/// standing. Clones share the list.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChangedAccounts(Arc<Mutex<Vec<UserId>>>);

impl ChangedAccounts {
    pub(crate) fn note(&self, user: UserId) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(user);
    }

    /// After the commit: drops every noted account from `cache`.
    pub(crate) fn forget_in(&self, cache: &AccountStandingCache) {
        let changed = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for user in changed {
            cache.forget(user);
        }
    }

    /// Drops every noted account from `cache` when the returned guard goes, whether the commit
    /// it spans succeeded, failed, or was abandoned half-way (its future dropped).
    pub(crate) fn forgotten_in_on_drop(&self, cache: AccountStandingCache) -> ForgetOnDrop {
        ForgetOnDrop {
            changed: self.clone(),
            cache,
        }
    }
}

/// See [`ChangedAccounts::forgotten_in_on_drop`].
pub(crate) struct ForgetOnDrop {
    changed: ChangedAccounts,
    cache: AccountStandingCache,
}

impl Drop for ForgetOnDrop {
    fn drop(&mut self) {
        self.changed.forget_in(&self.cache);
    }
}

#[cfg(test)]
mod tests {
    use domain::identity::Role;
    use uuid::Uuid;

    use super::*;

    const STANDING: AccountStanding = AccountStanding {
        token_version: 3,
        is_active: true,
        role: Role::Member,
    };

    fn account() -> (TenantId, UserId) {
        (
            TenantId::from_uuid(Uuid::now_v7()),
            UserId::from_uuid(Uuid::now_v7()),
        )
    }

    fn in_step() -> AccountStandingCache {
        let cache = AccountStandingCache::with_ttl(Duration::from_secs(600));
        cache.step_in();
        cache
    }

    #[test]
    fn a_stored_standing_is_served_to_its_own_tenant_only() {
        let cache = in_step();
        let (tenant, user) = account();
        cache.put(cache.ticket(), tenant, user, STANDING);

        assert_eq!(cache.get(tenant, user), Some(STANDING));
        assert_eq!(cache.get(account().0, user), None);
    }

    #[test]
    fn out_of_step_nothing_is_stored_nor_served() {
        let cache = AccountStandingCache::with_ttl(Duration::from_secs(600));
        let (tenant, user) = account();
        cache.put(cache.ticket(), tenant, user, STANDING);
        assert_eq!(cache.get(tenant, user), None, "never in step");

        cache.step_in();
        cache.put(cache.ticket(), tenant, user, STANDING);
        cache.lose_step();
        assert_eq!(cache.get(tenant, user), None, "lost step");
        cache.step_in();
        assert_eq!(
            cache.get(tenant, user),
            None,
            "dropped when the step was lost"
        );
    }

    #[test]
    fn a_read_that_started_before_a_change_does_not_store_what_it_read() {
        let cache = in_step();
        let (tenant, user) = account();
        let before_the_change = cache.ticket();
        cache.forget(user);

        cache.put(before_the_change, tenant, user, STANDING);

        assert_eq!(cache.get(tenant, user), None);
    }

    #[test]
    fn a_forgotten_standing_is_read_again() {
        let cache = in_step();
        let (tenant, user) = account();
        let (other_tenant, other) = account();
        cache.put(cache.ticket(), tenant, user, STANDING);
        cache.put(cache.ticket(), other_tenant, other, STANDING);

        cache.forget(user);

        assert_eq!(cache.get(tenant, user), None);
        assert_eq!(cache.get(other_tenant, other), Some(STANDING));
    }

    #[test]
    fn with_no_time_to_live_nothing_is_kept() {
        let cache = AccountStandingCache::with_ttl(Duration::ZERO);
        cache.step_in();
        let (tenant, user) = account();
        cache.put(cache.ticket(), tenant, user, STANDING);

        assert_eq!(cache.get(tenant, user), None);
        assert!(cache.entries().is_empty());
    }

    #[test]
    fn a_flood_of_accounts_never_holds_more_than_the_bound() {
        let cache = in_step();
        for _ in 0..MAX_ACCOUNTS + 10 {
            let (tenant, user) = account();
            cache.put(cache.ticket(), tenant, user, STANDING);
        }

        assert!(cache.entries().len() <= MAX_ACCOUNTS);
    }

    #[test]
    fn accounts_changed_in_a_transaction_are_dropped_even_when_its_commit_is_abandoned() {
        let cache = in_step();
        let (tenant, user) = account();
        cache.put(cache.ticket(), tenant, user, STANDING);
        let changed = ChangedAccounts::default();
        changed.note(user);

        let guard = changed.forgotten_in_on_drop(cache.clone());
        assert_eq!(
            cache.get(tenant, user),
            Some(STANDING),
            "not while committing"
        );
        drop(guard);

        assert_eq!(cache.get(tenant, user), None);
    }

    #[test]
    fn accounts_changed_in_a_transaction_are_dropped_when_it_commits() {
        let cache = in_step();
        let (tenant, user) = account();
        cache.put(cache.ticket(), tenant, user, STANDING);
        let changed = ChangedAccounts::default();
        changed.note(user);
        assert_eq!(
            cache.get(tenant, user),
            Some(STANDING),
            "not before the commit"
        );

        changed.forget_in(&cache);

        assert_eq!(cache.get(tenant, user), None);
    }
}
