use async_trait::async_trait;
use domain::ratelimit::{Admission, Quota};

/// The shared store could not be asked.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the rate-limit store is unavailable: {0}")]
pub struct LimiterUnavailable(pub String);

/// Where the state of rate-limit keys lives.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Admits or refuses one request for `key` at `now_ms` under `quota` (GCRA), atomically:
    /// concurrent callers, on any instance sharing the store, never exceed the quota together.
    ///
    /// # Errors
    /// [`LimiterUnavailable`] when the store cannot answer.
    async fn admit(
        &self,
        key: &str,
        quota: Quota,
        now_ms: i64,
    ) -> Result<Admission, LimiterUnavailable>;
}
