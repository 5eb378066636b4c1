//! Driver errors translated at the seam into the ports' [`StoreError`].

use application::store::StoreError;
use sea_orm::{DbErr, RuntimeErr, SqlErr, error::SqlxError};

/// A database error as the ports report it: unreachable database, pool exhausted, a
/// connection lost mid-statement or closed by the server's shutdown is `Unavailable` (the client
/// may retry), everything else `Unexpected`.
pub(crate) fn store_error(error: DbErr) -> StoreError {
    if is_unavailable(&error) {
        StoreError::Unavailable(Box::new(error))
    } else {
        StoreError::Unexpected(Box::new(error))
    }
}

fn is_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(RuntimeErr::SqlxError(_)) => true,
        DbErr::Exec(RuntimeErr::SqlxError(driver))
        | DbErr::Query(RuntimeErr::SqlxError(driver)) => {
            match driver.as_ref() {
                SqlxError::Io(_)
                | SqlxError::Tls(_)
                | SqlxError::PoolTimedOut
                | SqlxError::PoolClosed
                | SqlxError::WorkerCrashed => true,
                // PostgreSQL's class 57 (operator intervention: shutdown, terminated backend) and
                // 08 (connection exception).
                SqlxError::Database(database) => database
                    .code()
                    .is_some_and(|code| code.starts_with("57") || code.starts_with("08")),
                _ => false,
            }
        }
        _ => false,
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
