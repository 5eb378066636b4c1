use chrono::{DateTime, Duration, Utc};

/// When a failed send is tried again: after 1, 2, 4, 8 and 16 minutes, then never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule;

impl RetrySchedule {
    /// Retries after the first attempt.
    pub const MAX_RETRIES: u32 = 5;

    /// When the message that failed at `failed_at` after `retries_so_far` retries is due again,
    /// or `None` when it has had all its retries.
    #[must_use]
    pub fn next_attempt(retries_so_far: u32, failed_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (retries_so_far < Self::MAX_RETRIES)
            .then(|| failed_at + Duration::minutes(1_i64 << retries_so_far))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_doubling_and_stop_after_five() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let delays: Vec<_> = (0..=5)
            .map(|n| RetrySchedule::next_attempt(n, at).map(|due| (due - at).num_minutes()))
            .collect();
        assert_eq!(delays, [Some(1), Some(2), Some(4), Some(8), Some(16), None]);
    }
}
