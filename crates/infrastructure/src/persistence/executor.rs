//! Where a repository runs its statements: on the pool, or inside an open transaction of the
//! unit of work. The same repository code serves both.

use std::sync::Arc;

use sea_orm::{DatabaseExecutor, DatabaseTransaction, DbErr};

use super::{
    Database,
    transaction::{open_on_pool, open_within},
};

/// The pool, or one transaction.
#[derive(Debug, Clone)]
pub(crate) enum Executor {
    /// Each statement on its own pooled connection.
    Pool(Database),
    /// Every statement inside this transaction.
    Transaction(Arc<DatabaseTransaction>),
}

impl Executor {
    /// The sea-orm connection to run a statement on.
    pub(crate) fn conn(&self) -> DatabaseExecutor<'_> {
        match self {
            Self::Pool(db) => DatabaseExecutor::Connection(db.connection()),
            Self::Transaction(transaction) => DatabaseExecutor::Transaction(transaction),
        }
    }

    /// A transaction of its own: on a pooled connection, or a savepoint inside the open one.
    ///
    /// # Errors
    /// The driver's error when it cannot be opened.
    pub(crate) async fn open_transaction(&self) -> Result<DatabaseTransaction, DbErr> {
        match self {
            Self::Pool(db) => open_on_pool(db.connection()).await,
            Self::Transaction(transaction) => open_within(transaction).await,
        }
    }
}
