use std::sync::Arc;

use domain::ratelimit::{Admission, Policy, RateStatus, status};

use super::ports::{Cell, RateLimitStore};
use crate::{metrics::Metrics, system::Clock};

/// One policy to apply to a request, for one key (a user, an address, an account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The policy.
    pub policy: Policy,
    /// Whose requests it counts.
    pub key: String,
    /// Whether an admitted request is charged now; `false` only asks whether the key has room
    /// (the `login_account` policy charges failed logins afterwards, with
    /// [`RateLimiter::charge`]).
    pub charged: bool,
}

impl Check {
    /// A policy that charges every admitted request.
    #[must_use]
    pub const fn counted(policy: Policy, key: String) -> Self {
        Self {
            policy,
            key,
            charged: true,
        }
    }

    /// A policy that refuses a request when its key has no room, without charging it.
    #[must_use]
    pub const fn peeked(policy: Policy, key: String) -> Self {
        Self {
            policy,
            key,
            charged: false,
        }
    }
}

/// How one policy judged the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyOutcome {
    /// The policy.
    pub policy: Policy,
    /// Whether it let the request pass.
    pub allowed: bool,
    /// Its key's state after the request.
    pub status: RateStatus,
    /// When the whole quota is back, Unix seconds.
    pub reset_at_secs: i64,
}

/// The verdict on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Whether every policy let it pass.
    pub allowed: bool,
    /// What the headers report: the first refusing policy (coarse before fine), else the one
    /// with the least remaining.
    pub reported: PolicyOutcome,
}

/// The rate limiter: a shared store when there is one, this instance's own store while the shared
/// one is unreachable (never unlimited), and a count of those fallbacks.
#[derive(Clone)]
pub struct RateLimiter {
    shared: Option<Arc<dyn RateLimitStore>>,
    local: Arc<dyn RateLimitStore>,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// A limiter over `shared` (if any), falling back to `local`, on `clock`'s time.
    #[must_use]
    pub fn new(
        shared: Option<Arc<dyn RateLimitStore>>,
        local: Arc<dyn RateLimitStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            shared,
            local,
            clock,
            metrics: Metrics::default(),
        }
    }

    /// The limiter, counting its refusals and fallbacks into `metrics`.
    #[must_use]
    pub fn recording_into(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// How many checks fell back to this instance's store because the shared one was down.
    #[must_use]
    pub fn fallbacks(&self) -> u64 {
        self.metrics.rate_limiter_fallbacks()
    }

    /// Judges a request against every check at once, given coarse before fine: it passes only
    /// when every policy has room, and a refused request is charged to none of them. `None`
    /// when there is nothing to check, or no store can answer.
    #[tracing::instrument(name = "ratelimit.check", skip_all, fields(policy, allowed))]
    pub async fn check(&self, checks: &[Check]) -> Option<Verdict> {
        if checks.is_empty() {
            return None;
        }
        let now = self.clock.now();
        let now_ms = now.timestamp_millis();
        let admissions = self.admit_all(checks, now_ms).await?;
        let outcomes: Vec<PolicyOutcome> = checks
            .iter()
            .zip(admissions)
            .map(|(check, admission)| {
                let state = status(admission.tat_ms, now_ms, check.policy.quota);
                PolicyOutcome {
                    policy: check.policy,
                    allowed: admission.allowed,
                    status: state,
                    reset_at_secs: now.timestamp() + state.reset_secs(),
                }
            })
            .collect();
        // A refused request passes only once every refusing policy has room again: report the
        // one that keeps it waiting longest (the finer one on a tie).
        let refusing = outcomes
            .iter()
            .filter(|outcome| !outcome.allowed)
            .max_by_key(|outcome| outcome.status.retry_after_ms);
        if let Some(refusing) = refusing {
            let span = tracing::Span::current();
            span.record("policy", refusing.policy.name);
            span.record("allowed", false);
            self.metrics.record_rate_limited(refusing.policy);
            return Some(Verdict {
                allowed: false,
                reported: *refusing,
            });
        }
        outcomes
            .into_iter()
            .reduce(|tightest, outcome| {
                if outcome.status.remaining < tightest.status.remaining {
                    outcome
                } else {
                    tightest
                }
            })
            .map(|reported| Verdict {
                allowed: true,
                reported,
            })
    }

    /// Gives back the request each check was charged (a login that turned out not to fail is
    /// no failed login). A key that refills meanwhile is simply left whole.
    pub async fn refund(&self, checks: &[Check]) {
        let now_ms = self.clock.now().timestamp_millis();
        let keys = store_keys(checks);
        let cells = cells(checks, &keys);
        if let Some(shared) = &self.shared {
            match shared.refund(&cells, now_ms).await {
                Ok(()) => {
                    self.metrics.record_shared_rate_limit_store(true);
                    return;
                }
                Err(error) => {
                    self.metrics.record_shared_rate_limit_store(false);
                    tracing::warn!(%error, "rate limiting on this instance alone");
                }
            }
        }
        let _refunded = self.local.refund(&cells, now_ms).await;
    }

    async fn admit_all(&self, checks: &[Check], now_ms: i64) -> Option<Vec<Admission>> {
        let keys = store_keys(checks);
        let cells = cells(checks, &keys);
        if let Some(shared) = &self.shared {
            match shared.admit_all(&cells, now_ms).await {
                Ok(admissions) => {
                    self.metrics.record_shared_rate_limit_store(true);
                    return Some(admissions);
                }
                Err(error) => {
                    self.metrics.record_shared_rate_limit_store(false);
                    tracing::warn!(%error, "rate limiting on this instance alone");
                }
            }
        }
        self.local.admit_all(&cells, now_ms).await.ok()
    }
}

/// Each check's key in the store: the policy's name, then whose requests it counts.
fn store_keys(checks: &[Check]) -> Vec<String> {
    checks
        .iter()
        .map(|check| format!("{}:{}", check.policy.name, check.key))
        .collect()
}

/// The store's view of `checks`, under `keys` (from [`store_keys`]).
fn cells<'a>(checks: &[Check], keys: &'a [String]) -> Vec<Cell<'a>> {
    checks
        .iter()
        .zip(keys)
        .map(|(check, key)| Cell {
            key,
            quota: check.policy.quota,
            charge: check.charged,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, sync::Mutex};

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use domain::ratelimit::admit;

    use super::*;
    use crate::ratelimit::LimiterUnavailable;

    struct Down;

    #[async_trait]
    impl RateLimitStore for Down {
        async fn admit_all(
            &self,
            _: &[Cell<'_>],
            _: i64,
        ) -> Result<Vec<Admission>, LimiterUnavailable> {
            Err(LimiterUnavailable("connection refused".to_owned()))
        }

        async fn refund(&self, _: &[Cell<'_>], _: i64) -> Result<(), LimiterUnavailable> {
            Err(LimiterUnavailable("connection refused".to_owned()))
        }
    }

    #[derive(Default)]
    struct Memory(Mutex<HashMap<String, i64>>);

    #[async_trait]
    impl RateLimitStore for Memory {
        async fn admit_all(
            &self,
            cells: &[Cell<'_>],
            now_ms: i64,
        ) -> Result<Vec<Admission>, LimiterUnavailable> {
            let mut tats = self.0.lock().unwrap();
            let admissions: Vec<Admission> = cells
                .iter()
                .map(|cell| admit(tats.get(cell.key).copied(), now_ms, cell.quota))
                .collect();
            if admissions.iter().all(|admission| admission.allowed) {
                for (cell, admission) in cells.iter().zip(&admissions) {
                    if cell.charge {
                        tats.insert(cell.key.to_owned(), admission.tat_ms);
                    }
                }
            }
            Ok(admissions)
        }

        async fn refund(&self, cells: &[Cell<'_>], now_ms: i64) -> Result<(), LimiterUnavailable> {
            let mut tats = self.0.lock().unwrap();
            for cell in cells {
                if let Some(tat) = tats.get(cell.key).copied() {
                    let back = tat - cell.quota.interval_ms();
                    if back > now_ms {
                        tats.insert(cell.key.to_owned(), back);
                    } else {
                        tats.remove(cell.key);
                    }
                }
            }
            Ok(())
        }
    }

    struct Noon;

    impl Clock for Noon {
        fn now(&self) -> DateTime<Utc> {
            DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
                .unwrap()
                .to_utc()
        }
    }

    fn check(policy: Policy) -> Check {
        Check::counted(policy, "ip:192.0.2.1".to_owned())
    }

    #[tokio::test]
    async fn a_shared_store_that_is_down_falls_back_to_local_limits_and_is_counted() {
        let limiter = RateLimiter::new(
            Some(Arc::new(Down)),
            Arc::new(Memory::default()),
            Arc::new(Noon),
        );

        for _ in 0..5 {
            assert!(
                limiter
                    .check(&[check(Policy::LOGIN)])
                    .await
                    .unwrap()
                    .allowed
            );
        }
        let refused = limiter.check(&[check(Policy::LOGIN)]).await.unwrap();

        assert!(!refused.allowed, "never unlimited");
        assert_eq!(limiter.fallbacks(), 6);
    }

    #[tokio::test]
    async fn a_refusal_reports_the_refusing_policy_and_charges_no_policy() {
        let limiter = RateLimiter::new(None, Arc::new(Memory::default()), Arc::new(Noon));
        let checks = [check(Policy::API), check(Policy::LOGIN)];
        for _ in 0..5 {
            let verdict = limiter.check(&checks).await.unwrap();
            assert_eq!(
                verdict.reported.policy,
                Policy::LOGIN,
                "the one with the least remaining"
            );
        }

        let refused = limiter.check(&checks).await.unwrap();

        assert!(!refused.allowed);
        assert_eq!(refused.reported.policy, Policy::LOGIN);
        let api = limiter.check(&[check(Policy::API)]).await.unwrap();
        assert_eq!(
            api.reported.status.remaining, 94,
            "the refused request cost the api policy nothing, though it was checked first"
        );
        assert_eq!(limiter.check(&[]).await, None);
    }

    #[tokio::test]
    async fn the_refusing_policy_that_keeps_the_request_waiting_longest_is_reported() {
        let limiter = RateLimiter::new(None, Arc::new(Memory::default()), Arc::new(Noon));
        for _ in 0..5 {
            limiter.check(&[check(Policy::LOGIN)]).await.unwrap();
        }
        for _ in 0..20 {
            limiter.check(&[check(Policy::LOGIN_IP)]).await.unwrap();
        }

        let refused = limiter
            .check(&[check(Policy::LOGIN_IP), check(Policy::LOGIN)])
            .await
            .unwrap();

        // login_ip has room again in 45 s, login in 180 s.
        assert_eq!(refused.reported.policy, Policy::LOGIN);
        assert_eq!(refused.reported.status.retry_after_secs(), 180);
    }

    #[tokio::test]
    async fn a_peeked_policy_spends_nothing_and_a_refund_gives_a_request_back() {
        let limiter = RateLimiter::new(None, Arc::new(Memory::default()), Arc::new(Noon));
        let account = Check::peeked(Policy::LOGIN_ACCOUNT, "account:x".to_owned());
        for _ in 0..50 {
            assert!(
                limiter
                    .check(std::slice::from_ref(&account))
                    .await
                    .unwrap()
                    .allowed,
                "peeking spends nothing"
            );
        }
        let counted = Check::counted(Policy::LOGIN_ACCOUNT, "account:x".to_owned());
        for _ in 0..10 {
            assert!(
                limiter
                    .check(std::slice::from_ref(&counted))
                    .await
                    .unwrap()
                    .allowed
            );
        }
        let refused = limiter.check(std::slice::from_ref(&account)).await.unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.reported.policy, Policy::LOGIN_ACCOUNT);

        limiter.refund(std::slice::from_ref(&counted)).await;

        let after_refund = limiter.check(std::slice::from_ref(&account)).await.unwrap();
        assert!(after_refund.allowed, "one request given back");
    }
}
