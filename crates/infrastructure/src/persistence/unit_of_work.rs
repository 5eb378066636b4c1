//! The unit of work over sea-orm: one `DatabaseTransaction`, shared by the repositories that
//! write inside it, committed once.

use std::sync::Arc;

use application::{
    admin::ports::AuditLog,
    identity::ports::{RefreshTokenRepository, UserRepository},
    store::StoreError,
    unit_of_work::{Transaction, UnitOfWork},
};
use async_trait::async_trait;
use sea_orm::DatabaseTransaction;

use super::{
    AccountStandingCache, Database, SeaOrmAuditLog,
    account_standings::ChangedAccounts,
    identity::{SeaOrmRefreshTokenRepository, SeaOrmUserRepository},
    store_error::store_error,
    transaction::open_on_pool,
};

/// Opens transactions on the pool.
#[derive(Debug, Clone)]
pub struct SeaOrmUnitOfWork {
    db: Database,
}

impl SeaOrmUnitOfWork {
    /// Transactions on `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl UnitOfWork for SeaOrmUnitOfWork {
    #[tracing::instrument(name = "db.transaction.begin", skip_all)]
    async fn begin(&self) -> Result<Box<dyn Transaction>, StoreError> {
        let transaction = Arc::new(
            open_on_pool(self.db.connection())
                .await
                .map_err(store_error)?,
        );
        let standings = self.db.changes().accounts().clone();
        let changed_accounts = ChangedAccounts::default();
        Ok(Box::new(SeaOrmTransaction {
            users: SeaOrmUserRepository::within(
                Arc::clone(&transaction),
                standings.clone(),
                changed_accounts.clone(),
            ),
            standings,
            changed_accounts,
            refresh_tokens: SeaOrmRefreshTokenRepository::within(Arc::clone(&transaction)),
            audit_log: SeaOrmAuditLog::within(Arc::clone(&transaction)),
            transaction,
        }))
    }
}

/// One open transaction and its repositories.
#[derive(Debug)]
struct SeaOrmTransaction {
    transaction: Arc<DatabaseTransaction>,
    standings: AccountStandingCache,
    changed_accounts: ChangedAccounts,
    users: SeaOrmUserRepository,
    refresh_tokens: SeaOrmRefreshTokenRepository,
    audit_log: SeaOrmAuditLog,
}

#[async_trait]
impl Transaction for SeaOrmTransaction {
    fn users(&self) -> &dyn UserRepository {
        &self.users
    }

    fn refresh_tokens(&self) -> &dyn RefreshTokenRepository {
        &self.refresh_tokens
    }

    fn audit_log(&self) -> &dyn AuditLog {
        &self.audit_log
    }

    #[tracing::instrument(name = "db.transaction.commit", skip_all)]
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let Self {
            transaction,
            standings,
            changed_accounts,
            users,
            refresh_tokens,
            audit_log,
        } = *self;
        // The repositories hold the other references; with them gone the transaction is ours.
        drop((users, refresh_tokens, audit_log));
        let transaction = Arc::try_unwrap(transaction).map_err(|_| {
            StoreError::Unexpected("the transaction is still in use at commit".into())
        })?;
        // The standings go however the commit ends: a failed commit may have landed (the
        // connection lost on the way back), and so may one whose request timed out meanwhile.
        let _forget_when_done = changed_accounts.forgotten_in_on_drop(standings);
        transaction.commit().await.map_err(store_error)
    }
}
