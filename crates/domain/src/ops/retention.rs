//! How long data about people is kept (SPEC §6.1): the retention windows the daily job applies.

use chrono::{DateTime, TimeDelta, Utc};

/// Idempotency keys are kept this long (their replay window).
pub const IDEMPOTENCY_KEYS: TimeDelta = TimeDelta::hours(24);
/// Refresh tokens are kept this long past their end (to recognise a late reuse).
pub const REFRESH_TOKENS_PAST_END: TimeDelta = TimeDelta::days(7);
/// Inbound texts' records (their MessageSid and answer) are kept this long.
pub const INBOUND_SMS: TimeDelta = TimeDelta::days(30);
/// The text of an SMS-log entry is kept this long; the entry itself stays.
pub const SMS_BODIES: TimeDelta = TimeDelta::days(90);

/// What older than each window means at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionCutoffs {
    /// Idempotency keys created before this go.
    pub idempotency_keys_before: DateTime<Utc>,
    /// Refresh tokens that ended before this go.
    pub refresh_tokens_ended_before: DateTime<Utc>,
    /// Inbound-SMS records received before this go.
    pub inbound_sms_before: DateTime<Utc>,
    /// SMS-log entries created before this lose their text.
    pub sms_bodies_before: DateTime<Utc>,
}

impl RetentionCutoffs {
    /// The cutoffs at `now`.
    #[must_use]
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            idempotency_keys_before: now - IDEMPOTENCY_KEYS,
            refresh_tokens_ended_before: now - REFRESH_TOKENS_PAST_END,
            inbound_sms_before: now - INBOUND_SMS,
            sms_bodies_before: now - SMS_BODIES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoffs_are_the_windows_before_now() {
        let now = DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
            .unwrap()
            .to_utc();
        let cutoffs = RetentionCutoffs::at(now);
        assert_eq!(
            cutoffs.idempotency_keys_before.to_rfc3339(),
            "2026-05-31T12:00:00+00:00"
        );
        assert_eq!(
            cutoffs.refresh_tokens_ended_before.to_rfc3339(),
            "2026-05-25T12:00:00+00:00"
        );
        assert_eq!(
            cutoffs.inbound_sms_before.to_rfc3339(),
            "2026-05-02T12:00:00+00:00"
        );
        assert_eq!(
            cutoffs.sms_bodies_before.to_rfc3339(),
            "2026-03-03T12:00:00+00:00"
        );
    }
}
