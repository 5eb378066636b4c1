use domain::{
    identity::{Email, TenantSlug},
    secret::Secret,
};

use super::{
    Identity, Session,
    ports::{HasherError, PasswordCheck},
};
use crate::failure::{Failure, failed_from};

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
    /// The account was deactivated or its sessions revoked while the password was checked:
    /// answered like wrong credentials, and no session is started.
    #[error("the account was revoked while logging in")]
    Revoked,
    /// A failure that is not the caller's: a dependency down (503) or a bug (500).
    #[error(transparent)]
    Failed(#[from] Failure),
}

failed_from!(LoginError);

impl Identity {
    /// Checks credentials and starts a session.
    ///
    /// Whether the account exists does not show: an unknown tenant or email answers exactly as a
    /// wrong password, after a dummy verification that costs what a real one does. Deactivation
    /// shows only to someone who knows the password.
    ///
    /// The session starts in one transaction that records the login — only while the account is
    /// active and nothing revoked its tokens since it was read — and stores the refresh token,
    /// so a deactivation, password change or logout-everywhere racing the slow password check
    /// is never undone: it either waits for this session and revokes it, or this login sees it
    /// and starts nothing.
    ///
    /// # Errors
    /// [`LoginError`] says why no session was started.
    #[tracing::instrument(name = "identity.log_in", skip_all)]
    pub async fn log_in(&self, credentials: Credentials) -> Result<Session, LoginError> {
        if !self.ports.hasher.has_room() {
            // Refused before the account reads: a client retrying a full queue costs no
            // statements, and known and unknown accounts are refused alike.
            return Err(Failure::from(HasherError::Busy).into());
        }
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
        let Some(user) = account else {
            self.ports
                .hasher
                .verify_dummy(&credentials.password)
                .await?;
            tracing::info!("login refused: no such account");
            return Err(LoginError::InvalidCredentials);
        };
        let check = self
            .ports
            .hasher
            .verify(&credentials.password, &user.password_hash)
            .await?;
        if check == PasswordCheck::Mismatch {
            tracing::info!(user_id = %user.id, "login refused: wrong password");
            return Err(LoginError::InvalidCredentials);
        }
        if !user.is_active {
            tracing::info!(user_id = %user.id, "login refused: account deactivated");
            return Err(LoginError::Inactive);
        }
        let rehashed = if check == PasswordCheck::MatchNeedsRehash {
            // The policy passed when the password was set; hash it again with today's parameters.
            let password = domain::identity::Password::accepted_before(&credentials.password);
            Some(self.ports.hasher.hash(&password).await?)
        } else {
            None
        };
        let now = self.ports.clock.now();
        let (access_token, expires_in_secs) = self.access_token_for(&user, now)?;
        let (record, refresh_token) =
            self.refresh_token_for(&user, self.ports.ids.new_id(), now, now);
        let transaction = self.ports.unit_of_work.begin().await?;
        if !transaction
            .users()
            .record_login(user.tenant_id, user.id, user.token_version, now)
            .await?
        {
            tracing::info!(user_id = %user.id, "login refused: the account was revoked meanwhile");
            return Err(LoginError::Revoked);
        }
        if let Some(new_hash) = &rehashed
            && transaction
                .users()
                .replace_password_hash(user.tenant_id, user.id, &user.password_hash, new_hash)
                .await?
        {
            tracing::info!(user_id = %user.id, "password rehashed with current parameters");
        }
        transaction.refresh_tokens().insert(&record).await?;
        transaction.commit().await?;
        tracing::info!(user_id = %user.id, "logged in");
        Ok(Session {
            access_token,
            expires_in_secs,
            refresh_token,
        })
    }
}
