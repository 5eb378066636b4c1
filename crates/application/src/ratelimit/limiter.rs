use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use domain::ratelimit::{Policy, RateStatus, status};

use super::ports::RateLimitStore;
use crate::system::Clock;

/// One policy to apply to a request, for one key (a user, an IP, an IP with a login name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The policy.
    pub policy: Policy,
    /// Whose requests it counts.
    pub key: String,
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
    /// What the headers report: the refusing policy, else the one with the least remaining.
    pub reported: PolicyOutcome,
}

/// The rate limiter: a shared store when there is one, this instance's own store while the shared
/// one is unreachable (never unlimited), and a count of those fallbacks.
#[derive(Clone)]
pub struct RateLimiter {
    shared: Option<Arc<dyn RateLimitStore>>,
    local: Arc<dyn RateLimitStore>,
    clock: Arc<dyn Clock>,
    fallbacks: Arc<AtomicU64>,
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
            fallbacks: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many checks fell back to this instance's store because the shared one was down.
    #[must_use]
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// Applies `checks` in order, stopping at the first refusal (later policies are not charged
    /// for a refused request). `None` when there is nothing to check.
    #[tracing::instrument(name = "ratelimit.check", skip_all, fields(policy, allowed))]
    pub async fn check(&self, checks: &[Check]) -> Option<Verdict> {
        let now = self.clock.now();
        let now_ms = now.timestamp_millis();
        let mut reported: Option<PolicyOutcome> = None;
        for check in checks {
            let key = format!("{}:{}", check.policy.name, check.key);
            let quota = check.policy.quota;
            let admission = match &self.shared {
                Some(shared) => match shared.admit(&key, quota, now_ms).await {
                    Ok(admission) => admission,
                    Err(error) => {
                        self.fallbacks.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(%error, "rate limiting on this instance alone");
                        self.local.admit(&key, quota, now_ms).await.ok()?
                    }
                },
                None => self.local.admit(&key, quota, now_ms).await.ok()?,
            };
            let state = status(admission.tat_ms, now_ms, quota);
            let outcome = PolicyOutcome {
                policy: check.policy,
                allowed: admission.allowed,
                status: state,
                reset_at_secs: now.timestamp() + state.reset_secs(),
            };
            if !admission.allowed {
                let span = tracing::Span::current();
                span.record("policy", check.policy.name);
                span.record("allowed", false);
                return Some(Verdict {
                    allowed: false,
                    reported: outcome,
                });
            }
            if reported.is_none_or(|tightest| outcome.status.remaining < tightest.status.remaining)
            {
                reported = Some(outcome);
            }
        }
        reported.map(|reported| Verdict {
            allowed: true,
            reported,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, sync::Mutex};

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};
    use domain::ratelimit::{Admission, Quota, admit};

    use super::*;
    use crate::ratelimit::{LimiterUnavailable, RateLimitStore};

    struct Down;

    #[async_trait]
    impl RateLimitStore for Down {
        async fn admit(&self, _: &str, _: Quota, _: i64) -> Result<Admission, LimiterUnavailable> {
            Err(LimiterUnavailable("connection refused".to_owned()))
        }
    }

    #[derive(Default)]
    struct Memory(Mutex<HashMap<String, i64>>);

    #[async_trait]
    impl RateLimitStore for Memory {
        async fn admit(
            &self,
            key: &str,
            quota: Quota,
            now_ms: i64,
        ) -> Result<Admission, LimiterUnavailable> {
            let mut tats = self.0.lock().unwrap();
            let admission = admit(tats.get(key).copied(), now_ms, quota);
            if admission.allowed {
                tats.insert(key.to_owned(), admission.tat_ms);
            }
            Ok(admission)
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
        Check {
            policy,
            key: "ip:192.0.2.1".to_owned(),
        }
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
    async fn a_refusal_stops_at_the_refusing_policy_and_reports_it() {
        let limiter = RateLimiter::new(None, Arc::new(Memory::default()), Arc::new(Noon));
        let checks = [check(Policy::LOGIN), check(Policy::API)];
        for _ in 0..5 {
            let verdict = limiter.check(&checks).await.unwrap();
            assert_eq!(
                verdict.reported.policy,
                Policy::LOGIN,
                "the one with the least remaining"
            );
        }

        let refused = limiter.check(&checks).await.unwrap();

        assert_eq!(refused.reported.policy, Policy::LOGIN);
        let api = limiter.check(&[check(Policy::API)]).await.unwrap();
        assert_eq!(
            api.reported.status.remaining, 94,
            "the refused request cost the api policy nothing"
        );
        assert_eq!(limiter.check(&[]).await, None);
    }
}
