//! Opening a transaction that a cancelled request cannot leave half-open.

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait as _};
use tracing::Instrument as _;

/// Opens a transaction on a pooled connection, on a task of its own.
///
/// A request timeout drops the handler's future wherever it waits. Dropped while sqlx waits
/// for the answer to its `BEGIN`, a transaction is not counted as open yet (sqlx-postgres 0.9
/// counts it when the answer arrives), so nothing rolls it back, and the connection would go
/// back to the pool inside it: the next request's statements would run in a transaction that
/// never commits. On a task of its own the `BEGIN` always completes; when nobody is left to
/// use the transaction, it is dropped there, and dropping an open transaction queues its
/// `ROLLBACK`, which the pool sends before the connection is reused.
///
/// # Errors
/// The driver's error when the transaction cannot be opened; [`DbErr::Custom`] when the task
/// opening it did not finish (a panic in the driver).
pub(crate) async fn open_on_pool(
    connection: &DatabaseConnection,
) -> Result<DatabaseTransaction, DbErr> {
    let connection = connection.clone();
    // In the caller's span, so that the BEGIN stays in the request's trace.
    tokio::spawn(async move { connection.begin().await }.in_current_span())
        .await
        .map_err(|stopped| DbErr::Custom(format!("opening a transaction stopped: {stopped}")))?
}

/// Opens a savepoint inside `transaction`, on its connection. Cancelled half-way, it is
/// undone with the transaction around it, which the same cancellation drops.
///
/// # Errors
/// The driver's error when the savepoint cannot be made.
pub(crate) async fn open_within(
    transaction: &DatabaseTransaction,
) -> Result<DatabaseTransaction, DbErr> {
    transaction.begin().await
}
