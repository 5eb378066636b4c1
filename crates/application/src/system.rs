//! Ports to the system itself: the time and new identifiers, injected so tests can pin them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The current time.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// New unique identifiers.
pub trait IdGenerator: Send + Sync {
    /// A new id, UUID v7 so that ids sort by creation time.
    fn new_id(&self) -> Uuid;
}
