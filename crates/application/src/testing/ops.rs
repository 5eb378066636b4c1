//! Operations in memory: health probes with a set answer, the retention job's ledger and purge,
//! and a database schema whose migrations the test lists.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::ops::{CheckStatus, Dependency, retention::RetentionCutoffs};

use super::{Outage, idempotency::InMemoryIdempotencyStore, identity::InMemoryIdentity, lock};
use crate::{
    ops::{
        HealthProbe, ProbeResult, RetentionReport, RetentionStore, SchemaMigrator, SchemaPortError,
        SchemaState,
    },
    store::StoreError,
};

/// A [`HealthProbe`] answering the result the test set (`Up` by default), or `Down` while the
/// outage it follows lasts, as a database probe does when the database is down.
#[derive(Debug, Clone)]
pub struct FakeProbe {
    dependency: Dependency,
    result: Arc<Mutex<ProbeResult>>,
    follows: Option<Outage>,
    calls: Arc<AtomicUsize>,
}

impl FakeProbe {
    /// A probe of `dependency` answering `Up`.
    #[must_use]
    pub fn new(dependency: Dependency) -> Self {
        Self {
            dependency,
            result: Arc::new(Mutex::new(ProbeResult::new(CheckStatus::Up))),
            follows: None,
            calls: Arc::default(),
        }
    }

    /// The same probe answering `Down` whenever `outage` lasts.
    #[must_use]
    pub fn following(mut self, outage: Outage) -> Self {
        self.follows = Some(outage);
        self
    }

    /// Answers `result` from now on.
    pub fn set(&self, result: ProbeResult) {
        *lock(&self.result) = result;
    }

    /// How many times the probe ran.
    #[must_use]
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl HealthProbe for FakeProbe {
    fn dependency(&self) -> Dependency {
        self.dependency
    }

    async fn probe(&self) -> ProbeResult {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(outage) = &self.follows
            && outage.check().is_err()
        {
            return ProbeResult::with_detail(CheckStatus::Down, "unreachable");
        }
        lock(&self.result).clone()
    }
}

/// Purges other fakes' data on behalf of the retention store (the SMS fakes, for instance),
/// answering what it removed.
pub type Purger = Arc<dyn Fn(&RetentionCutoffs) -> RetentionReport + Send + Sync>;

/// One run recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    /// The job.
    pub job: String,
    /// The day it ran for.
    pub day: NaiveDate,
    /// When it was claimed.
    pub ran_at: DateTime<Utc>,
}

/// In-memory [`RetentionStore`]: the ledger lets one claim per job and day through; `purge`
/// removes what the fakes it was given hold past the cutoffs (idempotency keys from an
/// [`InMemoryIdempotencyStore`], ended refresh-token families from an [`InMemoryIdentity`],
/// anything else through [`Purger`]s) and adds up their reports. Clones share the ledger.
#[derive(Clone, Default)]
pub struct InMemoryRetentionStore {
    outage: Outage,
    runs: Arc<Mutex<Vec<JobRun>>>,
    purges: Arc<Mutex<Vec<RetentionCutoffs>>>,
    idempotency: Option<InMemoryIdempotencyStore>,
    identity: Option<InMemoryIdentity>,
    purgers: Vec<Purger>,
}

impl std::fmt::Debug for InMemoryRetentionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryRetentionStore")
            .field("runs", &self.runs)
            .field("purges", &self.purges)
            .field("purgers", &self.purgers.len())
            .finish_non_exhaustive()
    }
}

impl InMemoryRetentionStore {
    /// A store with an empty ledger that purges nothing, down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            ..Self::default()
        }
    }

    /// The same store, purging old keys from `store`.
    #[must_use]
    pub fn purging_idempotency(mut self, store: InMemoryIdempotencyStore) -> Self {
        self.idempotency = Some(store);
        self
    }

    /// The same store, purging ended refresh-token families from `identity`.
    #[must_use]
    pub fn purging_refresh_tokens(mut self, identity: InMemoryIdentity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// The same store, also running `purger` (inbound SMS, SMS bodies) at each purge.
    #[must_use]
    pub fn purging_with(
        mut self,
        purger: impl Fn(&RetentionCutoffs) -> RetentionReport + Send + Sync + 'static,
    ) -> Self {
        self.purgers.push(Arc::new(purger));
        self
    }

    /// Every run claimed, in order.
    #[must_use]
    pub fn runs(&self) -> Vec<JobRun> {
        lock(&self.runs).clone()
    }

    /// The cutoffs of every purge, in order.
    #[must_use]
    pub fn purges(&self) -> Vec<RetentionCutoffs> {
        lock(&self.purges).clone()
    }
}

#[async_trait]
impl RetentionStore for InMemoryRetentionStore {
    async fn claim_run(
        &self,
        job: &str,
        day: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.outage.check()?;
        let mut runs = lock(&self.runs);
        if runs.iter().any(|run| run.job == job && run.day == day) {
            return Ok(false);
        }
        runs.push(JobRun {
            job: job.to_owned(),
            day,
            ran_at: at,
        });
        Ok(true)
    }

    async fn purge(&self, cutoffs: &RetentionCutoffs) -> Result<RetentionReport, StoreError> {
        self.outage.check()?;
        lock(&self.purges).push(*cutoffs);
        let mut report = RetentionReport::default();
        if let Some(store) = &self.idempotency {
            report.idempotency_keys = store.purge_created_before(cutoffs.idempotency_keys_before);
        }
        if let Some(identity) = &self.identity {
            report.refresh_tokens =
                identity.purge_ended_families(cutoffs.refresh_tokens_ended_before);
        }
        for purger in &self.purgers {
            let more = purger(cutoffs);
            report.idempotency_keys += more.idempotency_keys;
            report.refresh_tokens += more.refresh_tokens;
            report.inbound_sms += more.inbound_sms;
            report.sms_bodies += more.sms_bodies;
        }
        Ok(report)
    }
}

/// The migrations a [`FakeMigrator`] knows and the database records.
#[derive(Debug, Clone, Default)]
struct Migrations {
    known: Vec<String>,
    recorded: Vec<String>,
    failing: Option<String>,
    applied_runs: usize,
}

/// A [`SchemaMigrator`] over a list of migrations this "binary" knows and a list the "database"
/// recorded, compared as the real one does (applied and pending in the binary's order, unknown
/// in the database's). Applying records the pending ones in order, stopping at one told to
/// fail. While the outage lasts every call fails. Clones share the lists.
#[derive(Debug, Clone, Default)]
pub struct FakeMigrator {
    outage: Outage,
    migrations: Arc<Mutex<Migrations>>,
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| (*name).to_owned()).collect()
}

impl FakeMigrator {
    /// A schema where the binary knows `known` and the database recorded `recorded`, failing
    /// while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage, known: &[&str], recorded: &[&str]) -> Self {
        Self {
            outage,
            migrations: Arc::new(Mutex::new(Migrations {
                known: names(known),
                recorded: names(recorded),
                ..Migrations::default()
            })),
        }
    }

    /// Makes applying `migration` fail (the ones before it are applied), or none with `None`.
    pub fn fail_at(&self, migration: Option<&str>) {
        lock(&self.migrations).failing = migration.map(str::to_owned);
    }

    /// The migrations the database records now, in the order they were applied.
    #[must_use]
    pub fn recorded(&self) -> Vec<String> {
        lock(&self.migrations).recorded.clone()
    }

    /// How many times pending migrations were applied.
    #[must_use]
    pub fn applied_runs(&self) -> usize {
        lock(&self.migrations).applied_runs
    }

    fn reachable(&self) -> Result<(), SchemaPortError> {
        self.outage.check().map_err(|error| SchemaPortError {
            message: error.to_string(),
        })
    }
}

#[async_trait]
impl SchemaMigrator for FakeMigrator {
    async fn state(&self) -> Result<SchemaState, SchemaPortError> {
        self.reachable()?;
        let migrations = lock(&self.migrations);
        let recorded: BTreeSet<&String> = migrations.recorded.iter().collect();
        let known: BTreeSet<&String> = migrations.known.iter().collect();
        let (applied, pending) = migrations
            .known
            .iter()
            .cloned()
            .partition(|name| recorded.contains(name));
        Ok(SchemaState {
            applied,
            pending,
            unknown: migrations
                .recorded
                .iter()
                .filter(|name| !known.contains(name))
                .cloned()
                .collect(),
        })
    }

    async fn apply_pending(&self) -> Result<(), SchemaPortError> {
        self.reachable()?;
        let mut migrations = lock(&self.migrations);
        migrations.applied_runs += 1;
        let pending: Vec<String> = migrations
            .known
            .iter()
            .filter(|name| !migrations.recorded.contains(name))
            .cloned()
            .collect();
        for name in pending {
            if migrations.failing.as_ref() == Some(&name) {
                return Err(SchemaPortError {
                    message: format!("migration {name} failed"),
                });
            }
            migrations.recorded.push(name);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::system::START;

    #[tokio::test]
    async fn one_run_per_job_and_day_is_claimed() {
        let store = InMemoryRetentionStore::new(Outage::default());
        let day = START.date_naive();
        assert!(store.claim_run("retention", day, START).await.unwrap());
        assert!(!store.claim_run("retention", day, START).await.unwrap());
        let next_day = day.succ_opt().unwrap();
        assert!(store.claim_run("retention", next_day, START).await.unwrap());
    }

    #[tokio::test]
    async fn applying_stops_at_a_failing_migration_and_unknown_ones_are_reported() {
        let migrator = FakeMigrator::new(Outage::default(), &["m1", "m2", "m3"], &["m1", "m9"]);
        let state = migrator.state().await.unwrap();
        assert_eq!(state.pending, ["m2", "m3"]);
        assert_eq!(state.unknown, ["m9"]);
        migrator.fail_at(Some("m3"));
        assert!(migrator.apply_pending().await.is_err());
        assert_eq!(migrator.recorded(), ["m1", "m9", "m2"]);
    }
}
