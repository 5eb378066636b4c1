use domain::{
    identity::{Email, FullName, Password, Role, TenantSlug, User, UserId},
    phone::PhoneNumber,
};

use super::{Identity, ports::SaveUserError};
use crate::failure::{Failure, failed_from};

/// A sign-up, parsed.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The tenant to join.
    pub tenant: TenantSlug,
    /// The account's email.
    pub email: Email,
    /// The new password, already checked against the policy.
    pub password: Password,
    /// Display name.
    pub full_name: FullName,
    /// Optional mobile number.
    pub phone: Option<PhoneNumber>,
}

/// Why a sign-up is refused.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// No tenant has this slug.
    #[error("no tenant has this slug")]
    UnknownTenant,
    /// The tenant does not accept sign-ups.
    #[error("the tenant does not accept sign-ups")]
    SignupClosed,
    /// The email is registered in this tenant already.
    #[error("the email address is already registered in this tenant")]
    EmailTaken,
    /// The phone number belongs to another account.
    #[error("the phone number is already registered")]
    PhoneTaken,
    /// A failure that is not the caller's: a dependency down (503) or a bug (500).
    #[error(transparent)]
    Failed(#[from] Failure),
}

failed_from!(RegisterError);

impl Identity {
    /// Creates a member account in an open tenant.
    ///
    /// # Errors
    /// [`RegisterError`] says why the account was not created.
    #[tracing::instrument(name = "identity.register", skip_all, fields(tenant = %registration.tenant))]
    pub async fn register(&self, registration: Registration) -> Result<User, RegisterError> {
        let tenant = self
            .ports
            .tenants
            .find_by_slug(&registration.tenant)
            .await?
            .ok_or(RegisterError::UnknownTenant)?;
        if !tenant.signup_open {
            return Err(RegisterError::SignupClosed);
        }
        let password_hash = self
            .ports
            .hasher
            .hash(&registration.password)
            .await
            .map_err(RegisterError::from)?;
        let now = self.ports.clock.now();
        let user = User {
            id: UserId::from_uuid(self.ports.ids.new_id()),
            tenant_id: tenant.id,
            email: registration.email,
            full_name: registration.full_name,
            phone: registration.phone,
            phone_verified: false,
            password_hash,
            role: Role::Member,
            is_active: true,
            sms_opt_in: false,
            flagged: false,
            token_version: 0,
            tokens_valid_after: None,
            created_at: now,
            updated_at: now,
            last_login_at: None,
        };
        self.ports
            .users
            .create(&user)
            .await
            .map_err(|error| match error {
                SaveUserError::EmailTaken => RegisterError::EmailTaken,
                SaveUserError::PhoneTaken => RegisterError::PhoneTaken,
                SaveUserError::Store(error) => error.into(),
            })?;
        tracing::info!(user_id = %user.id, "account registered");
        Ok(user)
    }
}
