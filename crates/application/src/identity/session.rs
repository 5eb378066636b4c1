use chrono::{DateTime, Utc};
use domain::{identity::User, secret::Secret};

use super::{
    Identity, Principal,
    ports::{AccessClaims, RefreshTokenRecord},
};
use crate::{
    failure::{Failure, failed_from},
    store::StoreError,
};

/// A pair of tokens handed to a client at login and on every refresh.
#[derive(Debug, Clone)]
pub struct Session {
    /// The bearer token for API calls.
    pub access_token: Secret,
    /// Seconds until the access token expires.
    pub expires_in_secs: u64,
    /// The single-use token that buys the next pair.
    pub refresh_token: Secret,
}

/// Why a refresh token is refused.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, expired, revoked or already used (which revokes its whole family).
    #[error("the refresh token is not valid")]
    InvalidToken,
    /// A failure that is not the caller's: a dependency down (503) or a bug (500).
    #[error(transparent)]
    Failed(#[from] Failure),
}

failed_from!(RefreshError);

impl Identity {
    /// Signs an access token for `user` at its current token version.
    pub(super) fn access_token_for(
        &self,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<(Secret, u64), Failure> {
        let access = self
            .ports
            .tokens
            .issue_access(
                &AccessClaims {
                    user_id: user.id,
                    tenant_id: user.tenant_id,
                    role: user.role,
                    token_version: user.token_version,
                },
                now,
            )
            .map_err(Failure::unexpected)?;
        Ok((access.token, access.expires_in_secs))
    }

    /// When a session (refresh family) that started at `started_at` ends, whatever its
    /// rotations.
    fn session_end(&self, started_at: DateTime<Utc>) -> DateTime<Utc> {
        started_at
            + chrono::Duration::from_std(self.ports.tokens.session_lifetime())
                .unwrap_or(chrono::Duration::days(30))
    }

    /// A refresh token record of `family` for `user`, and the token for the client. It expires
    /// one refresh TTL from `now`, but never after the family's end (`family_started_at` +
    /// the session lifetime).
    pub(super) fn refresh_token_for(
        &self,
        user: &User,
        family_id: uuid::Uuid,
        family_started_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> (RefreshTokenRecord, Secret) {
        let new = self.ports.tokens.new_refresh_token();
        let ttl = chrono::Duration::from_std(self.ports.tokens.refresh_ttl())
            .unwrap_or(chrono::Duration::days(30));
        let expires_at = (now + ttl).min(self.session_end(family_started_at));
        let record = RefreshTokenRecord {
            id: self.ports.ids.new_id(),
            tenant_id: user.tenant_id,
            user_id: user.id,
            family_id,
            token_hash: new.token_hash,
            expires_at,
            revoked_at: None,
            replaced_by: None,
            created_at: now,
        };
        (record, new.token)
    }

    /// Exchanges a refresh token for a new pair. The token is rotated: using it again later is
    /// reuse, which revokes every token of its family.
    ///
    /// # Errors
    /// [`RefreshError::InvalidToken`] for an unknown, expired, revoked or reused token.
    #[tracing::instrument(name = "identity.refresh", skip_all)]
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<Session, RefreshError> {
        let hash = self.ports.tokens.hash_refresh_token(refresh_token.expose());
        let record = self
            .ports
            .refresh_tokens
            .find_by_hash(&hash)
            .await?
            .ok_or(RefreshError::InvalidToken)?;
        let now = self.ports.clock.now();
        if record.revoked_at.is_some() {
            if record.replaced_by.is_some() {
                tracing::warn!(user_id = %record.user_id, family_id = %record.family_id, "refresh token reused; revoking its family");
                self.ports
                    .refresh_tokens
                    .revoke_family(record.user_id, record.family_id, now)
                    .await?;
            }
            return Err(RefreshError::InvalidToken);
        }
        let family_started_at = self
            .ports
            .refresh_tokens
            .family_started_at(record.family_id)
            .await?
            .unwrap_or(record.created_at);
        if record.expires_at <= now || self.session_end(family_started_at) <= now {
            return Err(RefreshError::InvalidToken);
        }
        let user = match self
            .ports
            .users
            .find(record.tenant_id, record.user_id)
            .await?
        {
            // A session that started before the latest revocation is over, even if a rotation
            // racing the revocation left it a live token.
            Some(user)
                if user.is_active
                    && user
                        .tokens_valid_after
                        .is_none_or(|revoked_at| family_started_at >= revoked_at) =>
            {
                user
            }
            _ => {
                self.ports
                    .refresh_tokens
                    .revoke_family(record.user_id, record.family_id, now)
                    .await?;
                return Err(RefreshError::InvalidToken);
            }
        };
        let (next, refresh_token) =
            self.refresh_token_for(&user, record.family_id, family_started_at, now);
        if !self
            .ports
            .refresh_tokens
            .rotate(record.id, &next, now)
            .await?
        {
            tracing::warn!(user_id = %user.id, family_id = %record.family_id, "refresh token used twice at once; revoking its family");
            self.ports
                .refresh_tokens
                .revoke_family(user.id, record.family_id, now)
                .await?;
            return Err(RefreshError::InvalidToken);
        }
        let (access_token, expires_in_secs) = self.access_token_for(&user, now)?;
        Ok(Session {
            access_token,
            expires_in_secs,
            refresh_token,
        })
    }

    /// Ends the session a refresh token belongs to: its whole family is revoked. A token that is
    /// unknown or belongs to someone else changes nothing.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "identity.log_out", skip_all, fields(user_id = %principal.user_id))]
    pub async fn log_out(
        &self,
        principal: &Principal,
        refresh_token: &Secret,
    ) -> Result<(), StoreError> {
        let hash = self.ports.tokens.hash_refresh_token(refresh_token.expose());
        if let Some(record) = self.ports.refresh_tokens.find_by_hash(&hash).await?
            && record.user_id == principal.user_id
            && record.tenant_id == principal.tenant_id
        {
            let now = self.ports.clock.now();
            self.ports
                .refresh_tokens
                .revoke_family(record.user_id, record.family_id, now)
                .await?;
        }
        Ok(())
    }

    /// Ends every session of the caller: every access token issued so far stops working and
    /// every refresh token is revoked.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "identity.log_out_everywhere", skip_all, fields(user_id = %principal.user_id))]
    pub async fn log_out_everywhere(&self, principal: &Principal) -> Result<(), StoreError> {
        self.revoke_everything(principal.tenant_id, principal.user_id)
            .await
    }

    /// Moves the user's token version and revokes every refresh token, in one transaction
    /// (the version first: it locks the row, so a racing login waits and is revoked too).
    pub(super) async fn revoke_everything(
        &self,
        tenant: domain::identity::TenantId,
        user: domain::identity::UserId,
    ) -> Result<(), StoreError> {
        let now = self.ports.clock.now();
        let transaction = self.ports.unit_of_work.begin().await?;
        transaction.users().revoke_tokens(tenant, user, now).await?;
        transaction.refresh_tokens().revoke_all(user, now).await?;
        transaction.commit().await
    }
}
