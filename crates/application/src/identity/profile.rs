use domain::{
    identity::{FullName, Password, PasswordRejected, User},
    phone::PhoneNumber,
    secret::Secret,
};

use super::{
    Identity, Principal,
    ports::{PasswordCheck, ProfileUpdate, SaveUserError},
};
use crate::{
    failure::{Failure, failed_from},
    store::StoreError,
};

/// Why the caller's profile cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The account no longer exists.
    #[error("the account does not exist")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Changes to the caller's own profile, parsed. `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    /// A new display name.
    pub full_name: Option<FullName>,
    /// A new phone number, or `Some(None)` to remove it.
    pub phone: Option<Option<PhoneNumber>>,
    /// New SMS consent.
    pub sms_opt_in: Option<bool>,
    /// A new password: checked against the policy here, where the tenant slug is known.
    pub password: Option<Secret>,
    /// The current password, required with `password`.
    pub current_password: Option<Secret>,
}

/// Why a profile change is refused.
#[derive(Debug, thiserror::Error)]
pub enum UpdateProfileError {
    /// The account no longer exists.
    #[error("the account does not exist")]
    NotFound,
    /// A new password was given without the current one.
    #[error("current_password is required to change the password")]
    CurrentPasswordMissing,
    /// The current password is wrong.
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    /// The new password breaks the policy.
    #[error("the new password {0}")]
    PasswordRejected(PasswordRejected),
    /// The phone belongs to another account.
    #[error("the phone number is already registered")]
    PhoneTaken,
    /// A failure that is not the caller's: a dependency down (503) or a bug (500).
    #[error(transparent)]
    Failed(#[from] Failure),
}

failed_from!(UpdateProfileError);

impl Identity {
    /// The caller's own account.
    ///
    /// # Errors
    /// [`ProfileError::NotFound`] when it was erased meanwhile.
    #[tracing::instrument(name = "identity.profile", skip_all, fields(user_id = %principal.user_id))]
    pub async fn profile(&self, principal: &Principal) -> Result<User, ProfileError> {
        self.ports
            .users
            .find(principal.tenant_id, principal.user_id)
            .await?
            .ok_or(ProfileError::NotFound)
    }

    /// Changes the caller's profile. A password change needs the current password and revokes
    /// every token issued before it (the client logs in again).
    ///
    /// # Errors
    /// [`UpdateProfileError`] says why nothing changed.
    #[tracing::instrument(name = "identity.update_profile", skip_all, fields(user_id = %principal.user_id))]
    pub async fn update_profile(
        &self,
        principal: &Principal,
        changes: ProfileChanges,
    ) -> Result<User, UpdateProfileError> {
        let user = self
            .ports
            .users
            .find(principal.tenant_id, principal.user_id)
            .await?
            .ok_or(UpdateProfileError::NotFound)?;
        let mut update = ProfileUpdate {
            full_name: changes.full_name,
            // The same number again is no change: it keeps its verification.
            phone: changes.phone.filter(|phone| *phone != user.phone),
            sms_opt_in: changes.sms_opt_in,
            password_hash: None,
            replaces_password_hash: None,
            updated_at: self.ports.clock.now(),
        };
        if let Some(new_password) = &changes.password {
            let current = changes
                .current_password
                .as_ref()
                .ok_or(UpdateProfileError::CurrentPasswordMissing)?;
            let tenant = self
                .ports
                .tenants
                .find(user.tenant_id)
                .await?
                .ok_or(UpdateProfileError::NotFound)?;
            let password = Password::parse(new_password.expose(), &user.email, &tenant.slug)
                .map_err(UpdateProfileError::PasswordRejected)?;
            self.require_password(&user, current)
                .await
                .map_err(|refusal| match refusal {
                    PasswordRefusal::Wrong => UpdateProfileError::WrongCurrentPassword,
                    PasswordRefusal::Failed(failure) => UpdateProfileError::Failed(failure),
                })?;
            update.password_hash = Some(self.ports.hasher.hash(&password).await?);
            update.replaces_password_hash = Some(user.password_hash.clone());
        }
        let refused = |error: SaveUserError| match error {
            SaveUserError::PhoneTaken => UpdateProfileError::PhoneTaken,
            SaveUserError::EmailTaken => UpdateProfileError::Failed(Failure::unexpected(error)),
            SaveUserError::Store(error) => error.into(),
        };
        if update.password_hash.is_some() {
            // The new password and the end of every older session hold together.
            let transaction = self.ports.unit_of_work.begin().await?;
            if !transaction
                .users()
                .update_profile(user.tenant_id, user.id, &update)
                .await
                .map_err(refused)?
            {
                // The password changed since it was checked: it was not the current one.
                return Err(UpdateProfileError::WrongCurrentPassword);
            }
            transaction
                .users()
                .revoke_tokens(user.tenant_id, user.id, update.updated_at)
                .await?;
            transaction
                .refresh_tokens()
                .revoke_all(user.id, update.updated_at)
                .await?;
            transaction.commit().await?;
            tracing::info!("password changed; every session revoked");
        } else if !self
            .ports
            .users
            .update_profile(user.tenant_id, user.id, &update)
            .await
            .map_err(refused)?
        {
            return Err(UpdateProfileError::NotFound);
        }
        self.ports
            .users
            .find(user.tenant_id, user.id)
            .await?
            .ok_or(UpdateProfileError::NotFound)
    }

    /// Checks that `candidate` is the user's password.
    pub(super) async fn require_password(
        &self,
        user: &User,
        candidate: &Secret,
    ) -> Result<(), PasswordRefusal> {
        let check = self
            .ports
            .hasher
            .verify(candidate, &user.password_hash)
            .await
            .map_err(|error| PasswordRefusal::Failed(error.into()))?;
        if check == PasswordCheck::Mismatch {
            Err(PasswordRefusal::Wrong)
        } else {
            Ok(())
        }
    }
}

/// Why a password confirmation failed.
pub(super) enum PasswordRefusal {
    Wrong,
    Failed(Failure),
}
