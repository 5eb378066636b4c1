use std::collections::BTreeMap;

use domain::{identity::User, secret::Secret};

use super::{
    Identity, Principal, ProfileError, ports::RefreshTokenRecord, profile::PasswordRefusal,
};
use crate::failure::{Failure, failed_from};

/// Everything the service holds about one user (GDPR Art. 15 and 20).
#[derive(Debug, Clone)]
pub struct AccountExport {
    /// The account.
    pub user: User,
    /// Their sessions (refresh tokens, as stored: hashes only).
    pub sessions: Vec<RefreshTokenRecord>,
    /// Every other row about them, by table.
    pub records: BTreeMap<String, Vec<serde_json::Value>>,
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
        let records = self
            .ports
            .users
            .export(principal.tenant_id, principal.user_id)
            .await?;
        Ok(AccountExport {
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
