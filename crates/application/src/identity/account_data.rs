use std::sync::Arc;

use domain::{
    identity::{TenantId, User, UserId},
    secret::Secret,
};

use super::{
    Identity, Principal, ProfileError,
    ports::{ExportTable, RefreshTokenRecord, UserRepository},
    profile::PasswordRefusal,
};
use crate::failure::{Failure, failed_from};

/// How many rows one page of the export reads: memory per export stays this many rows.
const EXPORT_PAGE_ROWS: u64 = 200;

/// Everything the service holds about one user (GDPR Art. 15 and 20).
#[derive(Debug)]
pub struct AccountExport {
    /// When the export was taken.
    pub exported_at: chrono::DateTime<chrono::Utc>,
    /// The account.
    pub user: User,
    /// Their sessions (refresh tokens, as stored: hashes only).
    pub sessions: Vec<RefreshTokenRecord>,
    /// Every other row about them, table by table, read a page at a time.
    pub records: AccountRecords,
}

/// The rows held about one user, read one page at a time: every table of [`ExportTable::ALL`]
/// in order, each in one or more pages (an empty table as one empty page).
pub struct AccountRecords {
    users: Arc<dyn UserRepository>,
    tenant: TenantId,
    user: UserId,
    table: usize,
    after: Option<String>,
}

impl std::fmt::Debug for AccountRecords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRecords")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl AccountRecords {
    /// The next page: its table, whether it is the table's first page, and its rows; `None`
    /// after the last table.
    ///
    /// # Errors
    /// [`Failure`] when the store fails.
    pub async fn next_page(
        &mut self,
    ) -> Result<Option<(ExportTable, bool, Vec<serde_json::Value>)>, Failure> {
        let Some(&table) = ExportTable::ALL.get(self.table) else {
            return Ok(None);
        };
        let first = self.after.is_none();
        let page = self
            .users
            .export_page(
                self.tenant,
                self.user,
                table,
                self.after.take(),
                EXPORT_PAGE_ROWS,
            )
            .await?;
        match page.next_after {
            Some(after) => self.after = Some(after),
            None => self.table += 1,
        }
        Ok(Some((table, first, page.rows)))
    }
}

/// Why an account was not erased.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// The confirming password is wrong.
    #[error("the password is wrong")]
    WrongPassword,
    /// The account no longer exists.
    #[error("the account does not exist")]
    NotFound,
    /// A failure that is not the caller's (nothing was erased): a dependency down (503) or a
    /// bug (500).
    #[error(transparent)]
    Failed(#[from] Failure),
}

failed_from!(EraseError);

impl Identity {
    /// Every row held about the caller.
    ///
    /// # Errors
    /// [`ProfileError::NotFound`] when the account was erased meanwhile.
    #[tracing::instrument(name = "identity.export", skip_all, fields(user_id = %principal.user_id))]
    pub async fn export_account(
        &self,
        principal: &Principal,
    ) -> Result<AccountExport, ProfileError> {
        let user = self.profile(principal).await?;
        let sessions = self.ports.refresh_tokens.list_for_user(user.id).await?;
        let records = AccountRecords {
            users: self.ports.users.clone(),
            tenant: principal.tenant_id,
            user: principal.user_id,
            table: 0,
            after: None,
        };
        Ok(AccountExport {
            exported_at: self.ports.clock.now(),
            user,
            sessions,
            records,
        })
    }

    /// Erases the caller's account and everything they own, after confirming their password.
    /// Their tokens stop working at once, since the account they name is gone.
    ///
    /// # Errors
    /// [`EraseError`] says why nothing was erased.
    #[tracing::instrument(name = "identity.erase", skip_all, fields(user_id = %principal.user_id))]
    pub async fn erase_account(
        &self,
        principal: &Principal,
        password: &Secret,
    ) -> Result<(), EraseError> {
        let user = self
            .ports
            .users
            .find(principal.tenant_id, principal.user_id)
            .await?
            .ok_or(EraseError::NotFound)?;
        self.require_password(&user, password)
            .await
            .map_err(|refusal| match refusal {
                PasswordRefusal::Wrong => EraseError::WrongPassword,
                PasswordRefusal::Failed(failure) => EraseError::Failed(failure),
            })?;
        // The account, its SMS log and (by cascade) its sessions, plants and messages go in one
        // transaction; its tokens die with the row they name.
        let transaction = self.ports.unit_of_work.begin().await?;
        if !transaction.users().erase(user.tenant_id, user.id).await? {
            return Err(EraseError::NotFound);
        }
        transaction.commit().await?;
        tracing::info!("account erased");
        Ok(())
    }
}
