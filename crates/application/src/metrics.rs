//! What the use cases count for operators (SPEC §7): rule engine durations, compliance
//! violations, SMS statuses, chat model outcomes, rate-limit refusals and database statements.
//!
//! Every series is a fixed slot of atomics chosen by an enum, so recording takes no lock and
//! allocates nothing on the hot path. The http crate renders a [`MetricsSnapshot`] as Prometheus
//! text; nothing here knows that format.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use domain::{gardens::rules::Rule, ratelimit::Policy, sms::SmsStatus};

/// Upper bounds of the duration histograms' buckets, in seconds (Prometheus' defaults).
pub const DURATION_BUCKETS_SECONDS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A duration histogram over [`DURATION_BUCKETS_SECONDS`] plus `+Inf`.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket, not cumulative; the last is `+Inf`.
    buckets: [AtomicU64; DURATION_BUCKETS_SECONDS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// Counts one observation of `duration`.
    pub fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let bucket = DURATION_BUCKETS_SECONDS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(DURATION_BUCKETS_SECONDS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// The histogram as Prometheus reports it: cumulative bucket counts, the count and the sum.
    #[must_use]
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = [0_u64; DURATION_BUCKETS_SECONDS.len() + 1];
        let mut running = 0_u64;
        for (slot, bucket) in cumulative.iter_mut().zip(&self.buckets) {
            running = running.saturating_add(bucket.load(Ordering::Relaxed));
            *slot = running;
        }
        HistogramSnapshot {
            cumulative,
            count: running,
            sum_seconds: Duration::from_nanos(self.sum_nanos.load(Ordering::Relaxed)).as_secs_f64(),
        }
    }
}

/// A histogram read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// Observations at or below each bound of [`DURATION_BUCKETS_SECONDS`], then in all (`+Inf`).
    pub cumulative: [u64; DURATION_BUCKETS_SECONDS.len() + 1],
    /// Observations in all.
    pub count: u64,
    /// Their sum, in seconds.
    pub sum_seconds: f64,
}

/// How a conversation's call to the chat model ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiOutcome {
    /// The model answered and its answer was used.
    Success,
    /// The model failed or said nothing; a template answered.
    Fallback,
}

impl AiOutcome {
    /// Every outcome.
    pub const ALL: [Self; 2] = [Self::Success, Self::Fallback];

    /// The metric label.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Fallback => "fallback",
        }
    }
}

/// What the compliance check did about a restricted crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplianceAction {
    /// Enforcement on: the planting was refused.
    Blocked,
    /// Enforcement off: the planting was written and the violation audited.
    Logged,
}

impl ComplianceAction {
    /// Every action.
    pub const ALL: [Self; 2] = [Self::Blocked, Self::Logged];

    /// The metric label.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::Logged => "logged",
        }
    }
}

#[derive(Debug, Default)]
struct Registry {
    db_queries: Histogram,
    db_query_errors: AtomicU64,
    rules: [Histogram; Rule::ALL.len()],
    compliance_violations: [AtomicU64; ComplianceAction::ALL.len()],
    sms_messages: [AtomicU64; SmsStatus::ALL.len()],
    ai_requests: [AtomicU64; AiOutcome::ALL.len()],
    rate_limited: [AtomicU64; Policy::ALL.len()],
    rate_limiter_fallbacks: AtomicU64,
    redis_degraded: AtomicBool,
}

/// The service's counters, shared by every use case of one instance; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    registry: Arc<Registry>,
}

impl Metrics {
    /// One database statement, how long it took and whether it failed.
    pub fn record_db_query(&self, elapsed: Duration, failed: bool) {
        self.registry.db_queries.observe(elapsed);
        if failed {
            self.registry
                .db_query_errors
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One run of `rule` over a garden.
    pub fn record_rule(&self, rule: Rule, elapsed: Duration) {
        self.registry.rules[rule as usize].observe(elapsed);
    }

    /// One restricted crop met by the compliance check.
    pub fn record_compliance_violation(&self, action: ComplianceAction) {
        self.registry.compliance_violations[action as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// One SMS reaching `status`.
    pub fn record_sms(&self, status: SmsStatus) {
        self.registry.sms_messages[status as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// One call to the chat model.
    pub fn record_ai_request(&self, outcome: AiOutcome) {
        self.registry.ai_requests[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// One request refused by `policy`.
    pub fn record_rate_limited(&self, policy: Policy) {
        if let Some(slot) = Policy::ALL
            .iter()
            .position(|known| known.name == policy.name)
        {
            self.registry.rate_limited[slot].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether the rate limiter's shared store answered its last call; a failure counts one
    /// fallback to this instance's own store.
    pub fn record_shared_rate_limit_store(&self, reachable: bool) {
        if !reachable {
            self.registry
                .rate_limiter_fallbacks
                .fetch_add(1, Ordering::Relaxed);
        }
        self.registry
            .redis_degraded
            .store(!reachable, Ordering::Relaxed);
    }

    /// How many rate-limit checks fell back to this instance's own store.
    #[must_use]
    pub fn rate_limiter_fallbacks(&self) -> u64 {
        self.registry.rate_limiter_fallbacks.load(Ordering::Relaxed)
    }

    /// Every series, read now.
    #[must_use]
    pub fn snapshot(&self) -> MetricsSnapshot {
        let registry = &self.registry;
        let count = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        MetricsSnapshot {
            db_queries: registry.db_queries.snapshot(),
            db_query_errors: count(&registry.db_query_errors),
            rules: Rule::ALL
                .iter()
                .map(|rule| (*rule, registry.rules[*rule as usize].snapshot()))
                .collect(),
            compliance_violations: ComplianceAction::ALL
                .iter()
                .map(|action| {
                    (
                        *action,
                        count(&registry.compliance_violations[*action as usize]),
                    )
                })
                .collect(),
            sms_messages: SmsStatus::ALL
                .iter()
                .map(|status| (*status, count(&registry.sms_messages[*status as usize])))
                .collect(),
            ai_requests: AiOutcome::ALL
                .iter()
                .map(|outcome| (*outcome, count(&registry.ai_requests[*outcome as usize])))
                .collect(),
            rate_limited: Policy::ALL
                .iter()
                .zip(&registry.rate_limited)
                .map(|(policy, counter)| (policy.name, count(counter)))
                .collect(),
            rate_limiter_fallbacks: count(&registry.rate_limiter_fallbacks),
            redis_degraded: registry.redis_degraded.load(Ordering::Relaxed),
        }
    }
}

/// Every series of [`Metrics`] at one moment, each label value present (zero when nothing
/// happened) so that dashboards and alerts see a series from the first scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsSnapshot {
    /// `db_query_duration_seconds`.
    pub db_queries: HistogramSnapshot,
    /// `db_query_errors_total`.
    pub db_query_errors: u64,
    /// `rule_execution_duration_seconds{rule}`.
    pub rules: Vec<(Rule, HistogramSnapshot)>,
    /// `compliance_violations_total{action}`.
    pub compliance_violations: Vec<(ComplianceAction, u64)>,
    /// `sms_messages_total{status}`.
    pub sms_messages: Vec<(SmsStatus, u64)>,
    /// `ai_requests_total{outcome}`.
    pub ai_requests: Vec<(AiOutcome, u64)>,
    /// `rate_limited_total{policy}`.
    pub rate_limited: Vec<(&'static str, u64)>,
    /// `rate_limiter_redis_fallbacks_total`.
    pub rate_limiter_fallbacks: u64,
    /// `redis_degraded`: the shared rate-limit store failed its last call.
    pub redis_degraded: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_observation_lands_in_its_bucket_and_every_wider_one() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_millis(30));
        histogram.observe(Duration::from_secs(60));
        let snapshot = histogram.snapshot();
        // 30 ms is above 0.025 and at most 0.05.
        assert_eq!(snapshot.cumulative[2], 0);
        assert_eq!(snapshot.cumulative[3], 1);
        assert_eq!(snapshot.cumulative[10], 1);
        assert_eq!(snapshot.cumulative[11], 2, "+Inf counts everything");
        assert_eq!(snapshot.count, 2);
        assert!((snapshot.sum_seconds - 60.03).abs() < 1e-9);
    }

    #[test]
    fn a_bound_is_inclusive() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_millis(5));
        assert_eq!(histogram.snapshot().cumulative[0], 1);
    }

    #[test]
    fn each_series_counts_under_its_own_label() {
        let metrics = Metrics::default();
        metrics.record_sms(SmsStatus::Delivered);
        metrics.record_sms(SmsStatus::Delivered);
        metrics.record_ai_request(AiOutcome::Fallback);
        metrics.record_compliance_violation(ComplianceAction::Blocked);
        metrics.record_rate_limited(Policy::LOGIN);
        metrics.record_rule(Rule::SharedCell, Duration::from_millis(1));
        metrics.record_db_query(Duration::from_millis(1), true);
        let snapshot = metrics.clone().snapshot();
        assert!(snapshot.sms_messages.contains(&(SmsStatus::Delivered, 2)));
        assert!(snapshot.sms_messages.contains(&(SmsStatus::Failed, 0)));
        assert!(snapshot.ai_requests.contains(&(AiOutcome::Fallback, 1)));
        assert!(snapshot.ai_requests.contains(&(AiOutcome::Success, 0)));
        assert!(
            snapshot
                .compliance_violations
                .contains(&(ComplianceAction::Blocked, 1))
        );
        assert!(snapshot.rate_limited.contains(&("login", 1)));
        assert!(snapshot.rate_limited.contains(&("api", 0)));
        let (_, shared_cell) = snapshot
            .rules
            .iter()
            .find(|(rule, _)| *rule == Rule::SharedCell)
            .expect("every rule has a series");
        assert_eq!(shared_cell.count, 1);
        assert_eq!(snapshot.db_queries.count, 1);
        assert_eq!(snapshot.db_query_errors, 1);
    }

    #[test]
    fn the_redis_gauge_follows_the_last_call_and_fallbacks_accumulate() {
        let metrics = Metrics::default();
        metrics.record_shared_rate_limit_store(false);
        metrics.record_shared_rate_limit_store(false);
        assert!(metrics.snapshot().redis_degraded);
        metrics.record_shared_rate_limit_store(true);
        let snapshot = metrics.snapshot();
        assert!(!snapshot.redis_degraded);
        assert_eq!(snapshot.rate_limiter_fallbacks, 2);
    }

    #[test]
    fn every_policy_has_a_series() {
        assert_eq!(
            Policy::ALL.len(),
            Metrics::default().snapshot().rate_limited.len()
        );
        for policy in Policy::ALL {
            let metrics = Metrics::default();
            metrics.record_rate_limited(policy);
            assert!(metrics.snapshot().rate_limited.contains(&(policy.name, 1)));
        }
    }
}
