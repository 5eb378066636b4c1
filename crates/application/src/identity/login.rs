use domain::{
    identity::{Email, TenantSlug},
    secret::Secret,
};

use super::{Identity, Session, ports::PasswordCheck};
use crate::store::StoreError;

/// What a client presents to log in. Tenant and email are kept as typed: text that does not
/// parse simply matches no account.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Tenant slug.
    pub tenant: String,
    /// Email address.
    pub email: String,
    /// Password.
    pub password: Secret,
}

/// Why a login is refused.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown tenant, unknown email or wrong password — deliberately indistinguishable.
    #[error("the credentials are not valid")]
    InvalidCredentials,
    /// The password was right but the account is deactivated.
    #[error("the account is deactivated")]
    Inactive,
    /// Something failed.
    #[error("login failed")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for LoginError {
    fn from(error: StoreError) -> Self {
        Self::Unexpected(Box::new(error))
    }
}

impl Identity {
    /// Checks credentials and starts a session.
    ///
    /// Whether the account exists does not show: an unknown tenant or email answers exactly as a
    /// wrong password, after a dummy verification that costs what a real one does. Deactivation
    /// shows only to someone who knows the password.
    ///
    /// # Errors
    /// [`LoginError`] says why no session was started.
    #[tracing::instrument(name = "identity.log_in", skip_all)]
    pub async fn log_in(&self, credentials: Credentials) -> Result<Session, LoginError> {
        let account = match (
            TenantSlug::parse(&credentials.tenant),
            Email::parse(&credentials.email),
        ) {
            (Ok(slug), Ok(email)) => match self.ports.tenants.find_by_slug(&slug).await? {
                Some(tenant) => self.ports.users.find_by_email(tenant.id, &email).await?,
                None => None,
            },
            _ => None,
        };
        let Some(mut user) = account else {
            self.ports.hasher.verify_dummy(&credentials.password).await;
            tracing::info!("login refused: no such account");
            return Err(LoginError::InvalidCredentials);
        };
        let check = self
            .ports
            .hasher
            .verify(&credentials.password, &user.password_hash)
            .await
            .map_err(|error| LoginError::Unexpected(Box::new(error)))?;
        if check == PasswordCheck::Mismatch {
            tracing::info!(user_id = %user.id, "login refused: wrong password");
            return Err(LoginError::InvalidCredentials);
        }
        if !user.is_active {
            tracing::info!(user_id = %user.id, "login refused: account deactivated");
            return Err(LoginError::Inactive);
        }
        let now = self.ports.clock.now();
        if check == PasswordCheck::MatchNeedsRehash {
            // The policy passed when the password was set; hash it again with today's parameters.
            let password = domain::identity::Password::accepted_before(&credentials.password);
            user.password_hash = self
                .ports
                .hasher
                .hash(&password)
                .await
                .map_err(|error| LoginError::Unexpected(Box::new(error)))?;
            tracing::info!(user_id = %user.id, "password rehashed with current parameters");
        }
        user.last_login_at = Some(now);
        self.ports
            .users
            .update(&user)
            .await
            .map_err(|error| LoginError::Unexpected(Box::new(error)))?;
        let session = self
            .start_session(&user, now)
            .await
            .map_err(LoginError::Unexpected)?;
        tracing::info!(user_id = %user.id, "logged in");
        Ok(session)
    }
}
