//! The failure every storage port can report, whatever the data.

use std::error::Error as StdError;

/// A storage port failed for a reason the use case cannot act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached (pool exhausted, connection refused, timeout): retry later.
    #[error("the data store is unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// Anything else.
    #[error("the data store failed")]
    Unexpected(#[source] Box<dyn StdError + Send + Sync>),
}
