//! Writes that must hold together go through one database transaction: the `UnitOfWork` port
//! opens it, its repositories write inside it, and `commit` makes every write visible at once.
//! Dropping a transaction without committing rolls every write back.
//!
//! Inside a transaction, use only its repositories: on a single-connection database (in-memory
//! SQLite) the pool's own repositories would wait for the connection the transaction holds.

use async_trait::async_trait;

use crate::{
    admin::ports::AuditLog,
    identity::ports::{RefreshTokenRepository, UserRepository},
    store::StoreError,
};

/// Opens transactions.
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Begins a transaction.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot begin one (unreachable: `Unavailable`).
    async fn begin(&self) -> Result<Box<dyn Transaction>, StoreError>;
}

/// An open transaction and the repositories that write inside it.
#[async_trait]
pub trait Transaction: Send + Sync {
    /// Users, inside this transaction.
    fn users(&self) -> &dyn UserRepository;

    /// Refresh tokens, inside this transaction.
    fn refresh_tokens(&self) -> &dyn RefreshTokenRepository;

    /// The admin audit log, inside this transaction.
    fn audit_log(&self) -> &dyn AuditLog;

    /// Makes every write of the transaction visible at once.
    ///
    /// # Errors
    /// [`StoreError`] when the commit fails: nothing was written then.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}
