//! Driver errors translated at the seam into the ports' [`StoreError`].

use application::store::StoreError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// A database error as the ports report it: unreachable database or pool exhausted is
/// `Unavailable` (the client may retry), everything else `Unexpected`.
pub(crate) fn store_error(error: DbErr) -> StoreError {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(RuntimeErr::SqlxError(_)) => {
            StoreError::Unavailable(Box::new(error))
        }
        other => StoreError::Unexpected(Box::new(other)),
    }
}

/// A stored value that does not parse into its domain type: the data is wrong, not the request.
pub(crate) fn corrupt(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unexpected(Box::new(error))
}

/// The message of a unique-constraint violation, which names the constraint or column on both
/// databases (`ux_users_tenant_email`, `users.phone`, `users_phone_key`).
pub(crate) fn unique_violation(error: &DbErr) -> Option<String> {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => Some(message),
        _ => None,
    }
}
