//! The system clock and UUID v7 ids.

use application::system::{Clock, IdGenerator};
use chrono::{DateTime, SubsecRound as _, Utc};
use uuid::Uuid;

/// The wall clock, to the microsecond: PostgreSQL keeps microseconds, so a time returned by a
/// use case equals the time read back later.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// UUID v7 ids: unique, and sorted by creation time.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}
