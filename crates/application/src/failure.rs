//! The failures a use case can meet that are not the caller's fault, typed so that the edge can
//! tell "retry later" (503) from a bug (500) without looking inside boxed errors. Every use-case
//! error enum ends with a `Failed(Failure)` variant.

use std::error::Error as StdError;

use crate::{identity::ports::HasherError, store::StoreError};

/// A failure that is not the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A dependency (the database) cannot be reached right now: retry later (503).
    #[error("a dependency is unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// Password hashing is at capacity: retry in a moment (503 with `Retry-After`).
    #[error("password hashing is at capacity")]
    HashingBusy,
    /// Anything else: a bug or corrupt data (500).
    #[error("unexpected failure")]
    Unexpected(#[source] Box<dyn StdError + Send + Sync>),
}

impl Failure {
    /// An unexpected failure caused by `error`.
    pub fn unexpected(error: impl StdError + Send + Sync + 'static) -> Self {
        Self::Unexpected(Box::new(error))
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(source) => Self::Unavailable(source),
            other @ StoreError::Unexpected(_) => Self::unexpected(other),
        }
    }
}

impl From<HasherError> for Failure {
    fn from(error: HasherError) -> Self {
        match error {
            HasherError::Busy => Self::HashingBusy,
            other @ HasherError::Failed(_) => Self::unexpected(other),
        }
    }
}

/// `From<StoreError>` and `From<HasherError>` for use-case errors with a `Failed(Failure)`
/// variant, so that `?` keeps an outage typed.
macro_rules! failed_from {
    ($($error:ty),+ $(,)?) => {
        $(
            impl From<$crate::store::StoreError> for $error {
                fn from(error: $crate::store::StoreError) -> Self {
                    Self::Failed(error.into())
                }
            }

            impl From<$crate::identity::ports::HasherError> for $error {
                fn from(error: $crate::identity::ports::HasherError) -> Self {
                    Self::Failed(error.into())
                }
            }
        )+
    };
}

pub(crate) use failed_from;
