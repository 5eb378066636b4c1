//! Rate limiting: the policies that apply to a request are checked together against a shared
//! store (Redis) — or, while it is unreachable, this instance's own — and the tightest outcome is
//! reported.

mod limiter;
mod ports;

pub use limiter::{Check, PolicyOutcome, RateLimiter, Verdict};
pub use ports::{Cell, LimiterUnavailable, RateLimitStore};
