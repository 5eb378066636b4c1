use domain::identity::UserId;

use super::{Identity, Principal};
use crate::store::StoreError;

/// Why a bearer token does not authenticate its bearer.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    /// Forged, expired, for another audience, revoked, or of a deleted or deactivated account.
    #[error("the access token is not valid")]
    InvalidToken,
    /// The account could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Identity {
    /// The principal an access token stands for. Besides the signature and claims, the account
    /// must still exist and be active, and the token must be of its current token version, so a
    /// revocation takes effect from the next request on.
    ///
    /// # Errors
    /// [`AuthenticateError::InvalidToken`] when the token does not open the account.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthenticateError> {
        let claims = self.ports.tokens.verify_access(token).map_err(|error| {
            tracing::info!(%error, "access token refused");
            AuthenticateError::InvalidToken
        })?;
        let standing = self
            .ports
            .users
            .find_standing(claims.tenant_id, claims.user_id)
            .await?
            .ok_or(AuthenticateError::InvalidToken)?;
        if !standing.accepts_access_token(claims.token_version) {
            tracing::info!(user_id = %claims.user_id, "access token refused: revoked or account inactive");
            return Err(AuthenticateError::InvalidToken);
        }
        Ok(Principal {
            user_id: claims.user_id,
            tenant_id: claims.tenant_id,
            role: standing.role,
        })
    }

    /// Whose token this is, from its signature and claims alone — no database read — for
    /// keying rate limits. `None` for a forged or expired token.
    #[must_use]
    pub fn token_subject(&self, token: &str) -> Option<UserId> {
        self.ports
            .tokens
            .verify_access(token)
            .ok()
            .map(|claims| claims.user_id)
    }
}
