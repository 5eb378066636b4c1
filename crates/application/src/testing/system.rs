//! A clock tests move by hand and ids that follow each other, so that times and ids in
//! assertions are known in advance.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU64, Ordering},
};

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::lock;
use crate::system::{Clock, IdGenerator};

/// 2026-01-01T00:00:00Z: where every [`ManualClock`] starts unless told otherwise.
pub const START: DateTime<Utc> = match DateTime::from_timestamp(1_767_225_600, 0) {
    Some(start) => start,
    None => DateTime::UNIX_EPOCH,
};

/// A clock that stands still until the test moves it. Clones share one time, so the test keeps
/// a clone and moves the time the use cases read.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl Default for ManualClock {
    fn default() -> Self {
        Self::at(START)
    }
}

impl ManualClock {
    /// A clock showing [`START`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock showing `at`.
    #[must_use]
    pub fn at(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    /// Moves the time to `at` (backwards too, to test clock skew).
    pub fn set(&self, at: DateTime<Utc>) {
        *lock(&self.0) = at;
    }

    /// Moves the time by `by`.
    pub fn advance(&self, by: TimeDelta) {
        let mut now = lock(&self.0);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.0)
    }
}

/// The milliseconds of [`START`], the timestamp part of every [`SequentialIds`] id.
const START_MS: u128 = 1_767_225_600_000;
/// The version (7) and variant (RFC 9562) bits of a v7 UUID, over [`START_MS`].
const V7_PREFIX: u128 = (START_MS << 80) | (0x7 << 76) | (0b10 << 62);

/// Ids that follow each other: well-formed UUID v7 with a fixed timestamp and a counter, so they
/// sort in the order they were made, as real v7 ids do, and a test can name the n-th one.
/// Clones share the counter.
#[derive(Debug, Clone, Default)]
pub struct SequentialIds(Arc<AtomicU64>);

impl SequentialIds {
    /// Ids from the first ([`SequentialIds::nth`]`(1)`) on.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The `n`-th id any generator makes (from 1), to name in assertions.
    #[must_use]
    pub fn nth(n: u64) -> Uuid {
        Uuid::from_u128(V7_PREFIX | u128::from(n))
    }

    /// How many ids were made so far.
    #[must_use]
    pub fn issued(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> Uuid {
        Self::nth(self.0.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_time_they_are_moved_to() {
        let clock = ManualClock::new();
        let seen_by_use_case = clock.clone();
        assert_eq!(
            seen_by_use_case.now().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        clock.advance(TimeDelta::minutes(90));
        assert_eq!(seen_by_use_case.now(), START + TimeDelta::minutes(90));
        clock.set(START);
        assert_eq!(seen_by_use_case.now(), START);
    }

    #[test]
    fn ids_are_version_7_and_sort_in_creation_order() {
        let ids = SequentialIds::new();
        let made: Vec<Uuid> = (0..3).map(|_| ids.clone().new_id()).collect();
        assert_eq!(made[0], SequentialIds::nth(1));
        assert_eq!(made[2], SequentialIds::nth(3));
        assert!(made.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(made[0].get_version_num(), 7);
        assert_eq!(made[0].get_variant(), uuid::Variant::RFC4122);
        assert_eq!(ids.issued(), 3);
    }
}
