use super::Quota;

/// The outcome of one request against one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// Whether the request may pass.
    pub allowed: bool,
    /// The key's theoretical arrival time after this request, in Unix milliseconds (unchanged
    /// when refused).
    pub tat_ms: i64,
}

/// What the headers report about a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStatus {
    /// Requests left before refusals start.
    pub remaining: u32,
    /// Milliseconds until the whole quota is available again.
    pub reset_ms: i64,
    /// Milliseconds until the next request may pass (0 when one may now).
    pub retry_after_ms: i64,
}

impl RateStatus {
    /// Seconds until the whole quota is back, rounded up (the `t` of the `RateLimit` header).
    #[must_use]
    pub const fn reset_secs(&self) -> i64 {
        (self.reset_ms + 999) / 1000
    }

    /// Seconds until a request may pass again, rounded up and at least 1 (`Retry-After`).
    #[must_use]
    pub const fn retry_after_secs(&self) -> i64 {
        let secs = (self.retry_after_ms + 999) / 1000;
        if secs < 1 { 1 } else { secs }
    }
}

/// GCRA: the request at `now_ms` against a key whose TAT is `tat_ms` (`None` for a fresh key).
/// It passes when, after it, the TAT lies at most one window ahead of now; a refused request
/// leaves the key as it was.
#[must_use]
pub fn admit(tat_ms: Option<i64>, now_ms: i64, quota: Quota) -> Admission {
    let tat = tat_ms.unwrap_or(now_ms).max(now_ms);
    let next = tat + quota.interval_ms();
    if next - now_ms <= quota.window_ms() {
        Admission {
            allowed: true,
            tat_ms: next,
        }
    } else {
        Admission {
            allowed: false,
            tat_ms: tat,
        }
    }
}

/// The key's state at `now_ms` for the headers.
#[must_use]
pub fn status(tat_ms: i64, now_ms: i64, quota: Quota) -> RateStatus {
    let ahead = (tat_ms - now_ms).max(0);
    let interval = quota.interval_ms().max(1);
    let free = (quota.window_ms() - ahead).max(0);
    RateStatus {
        remaining: u32::try_from(free / interval).unwrap_or(0).min(quota.limit),
        reset_ms: ahead,
        retry_after_ms: (ahead + interval - quota.window_ms()).max(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_PER_MINUTE: Quota = Quota {
        limit: 5,
        window_secs: 60,
    };

    #[test]
    fn a_whole_quota_passes_in_one_burst_then_requests_are_refused() {
        let mut tat = None;
        for expected_remaining in (0..5).rev() {
            let admission = admit(tat, 0, FIVE_PER_MINUTE);
            assert!(admission.allowed);
            assert_eq!(
                status(admission.tat_ms, 0, FIVE_PER_MINUTE).remaining,
                expected_remaining
            );
            tat = Some(admission.tat_ms);
        }
        let refused = admit(tat, 0, FIVE_PER_MINUTE);
        assert!(!refused.allowed);
        assert_eq!(Some(refused.tat_ms), tat, "a refusal costs nothing");
        let state = status(refused.tat_ms, 0, FIVE_PER_MINUTE);
        assert_eq!(state.retry_after_ms, 12_000, "one interval");
        assert_eq!(state.reset_ms, 60_000, "the whole window");
    }

    #[test]
    fn the_quota_comes_back_one_interval_at_a_time() {
        let mut tat = None;
        for _ in 0..5 {
            tat = Some(admit(tat, 0, FIVE_PER_MINUTE).tat_ms);
        }
        assert!(!admit(tat, 11_999, FIVE_PER_MINUTE).allowed);
        let later = admit(tat, 12_000, FIVE_PER_MINUTE);
        assert!(later.allowed);
        assert!(!admit(Some(later.tat_ms), 12_000, FIVE_PER_MINUTE).allowed);
        let full = status(later.tat_ms, 72_000, FIVE_PER_MINUTE);
        assert_eq!(full.remaining, 5);
        assert_eq!(full.reset_ms, 0);
    }
}
