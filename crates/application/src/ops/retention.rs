//! The daily retention job (SPEC §6.1): old idempotency keys, ended refresh tokens, inbound-SMS
//! records and SMS texts are removed once a day, by exactly one instance.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::ops::retention::RetentionCutoffs;

use crate::{store::StoreError, system::Clock};

/// The job's name in the run ledger.
pub const RETENTION_JOB: &str = "retention";

/// What one run removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Idempotency keys deleted.
    pub idempotency_keys: u64,
    /// Refresh tokens deleted.
    pub refresh_tokens: u64,
    /// Inbound-SMS records deleted.
    pub inbound_sms: u64,
    /// SMS-log entries whose text was removed.
    pub sms_bodies: u64,
}

/// Where the retention job works.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Records that `job` runs for `day`, unless some instance did already: `true` for the one
    /// caller (on any instance) that recorded it.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn claim_run(
        &self,
        job: &str,
        day: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Removes what is older than `cutoffs`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn purge(&self, cutoffs: &RetentionCutoffs) -> Result<RetentionReport, StoreError>;
}

/// The retention job.
#[derive(Clone)]
pub struct Retention {
    store: Arc<dyn RetentionStore>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retention").finish_non_exhaustive()
    }
}

impl Retention {
    /// The job over `store`, on `clock`'s time.
    #[must_use]
    pub fn new(store: Arc<dyn RetentionStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Runs today's retention unless an instance ran it already today (UTC). `None` when it
    /// had.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "retention.run_daily", skip_all, fields(ran))]
    pub async fn run_daily(&self) -> Result<Option<RetentionReport>, StoreError> {
        let now = self.clock.now();
        if !self
            .store
            .claim_run(RETENTION_JOB, now.date_naive(), now)
            .await?
        {
            tracing::Span::current().record("ran", false);
            return Ok(None);
        }
        let report = self.store.purge(&RetentionCutoffs::at(now)).await?;
        tracing::Span::current().record("ran", true);
        tracing::info!(
            idempotency_keys = report.idempotency_keys,
            refresh_tokens = report.refresh_tokens,
            inbound_sms = report.inbound_sms,
            sms_bodies = report.sms_bodies,
            "retention applied"
        );
        Ok(Some(report))
    }
}
