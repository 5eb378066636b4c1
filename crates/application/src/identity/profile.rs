use domain::{
    identity::{FullName, Password, PasswordRejected, User},
    phone::PhoneNumber,
    secret::Secret,
};

use super::{
    Identity, Principal,
    ports::{PasswordCheck, SaveUserError},
};
use crate::store::StoreError;

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
    /// Something failed.
    #[error("the profile could not be updated")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for UpdateProfileError {
    fn from(error: StoreError) -> Self {
        Self::Unexpected(Box::new(error))
    }
}

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
        let mut user = self
            .ports
            .users
            .find(principal.tenant_id, principal.user_id)
            .await?
            .ok_or(UpdateProfileError::NotFound)?;
        let mut password_changed = false;
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
                    PasswordRefusal::Unexpected(error) => UpdateProfileError::Unexpected(error),
                })?;
            user.password_hash = self
                .ports
                .hasher
                .hash(&password)
                .await
                .map_err(|error| UpdateProfileError::Unexpected(Box::new(error)))?;
            password_changed = true;
        }
        if let Some(full_name) = changes.full_name {
            user.full_name = full_name;
        }
        if let Some(phone) = changes.phone {
            user.phone = phone;
        }
        if let Some(sms_opt_in) = changes.sms_opt_in {
            user.sms_opt_in = sms_opt_in;
        }
        user.updated_at = self.ports.clock.now();
        self.ports
            .users
            .update(&user)
            .await
            .map_err(|error| match error {
                SaveUserError::PhoneTaken => UpdateProfileError::PhoneTaken,
                SaveUserError::EmailTaken => UpdateProfileError::Unexpected(Box::new(error)),
                SaveUserError::Store(error) => error.into(),
            })?;
        if password_changed {
            self.revoke_everything(user.tenant_id, user.id).await?;
            user.token_version += 1;
            user.tokens_valid_after = Some(user.updated_at);
            tracing::info!("password changed; every session revoked");
        }
        Ok(user)
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
            .map_err(|error| PasswordRefusal::Unexpected(Box::new(error)))?;
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
    Unexpected(Box<dyn std::error::Error + Send + Sync>),
}
