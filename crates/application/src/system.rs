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

/// A request to stop, shared between whoever stops the service and the workers that look at it
/// between two items, so that shutdown waits for the current item only.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl StopSignal {
    /// A signal nobody has raised yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every holder to stop after its current item.
    pub fn raise(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether stopping was asked for.
    #[must_use]
    pub fn is_raised(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Acquire)
    }
}
