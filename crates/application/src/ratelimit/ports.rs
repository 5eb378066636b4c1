use async_trait::async_trait;
use domain::ratelimit::{Admission, Quota};

/// The shared store could not be asked.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the rate-limit store is unavailable: {0}")]
pub struct LimiterUnavailable(pub String);

/// One key a request is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell<'a> {
    /// The key (policy name and whose requests it counts).
    pub key: &'a str,
    /// The key's quota.
    pub quota: Quota,
    /// Whether an admitted request spends from this key now; `false` only asks whether it
    /// would pass (failed logins are charged afterwards).
    pub charge: bool,
}

/// Where the state of rate-limit keys lives.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Judges one request at `now_ms` against every cell at once (GCRA), answering each cell's
    /// admission in order. All or nothing: when every cell admits the request, the charged cells
    /// advance; when any refuses, no key changes — and a key that did not exist is not created.
    /// Atomic: concurrent callers, on any instance sharing the store, never exceed a quota
    /// together.
    ///
    /// # Errors
    /// [`LimiterUnavailable`] when the store cannot answer.
    async fn admit_all(
        &self,
        cells: &[Cell<'_>],
        now_ms: i64,
    ) -> Result<Vec<Admission>, LimiterUnavailable>;

    /// Gives back one request to each cell's key (its TAT moves back one interval; a key that
    /// becomes whole is dropped). A key that does not exist stays absent.
    ///
    /// # Errors
    /// [`LimiterUnavailable`] when the store cannot answer.
    async fn refund(&self, cells: &[Cell<'_>], now_ms: i64) -> Result<(), LimiterUnavailable>;
}
