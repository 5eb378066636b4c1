use chrono::{DateTime, Utc};

use super::{Email, FullName, Role, TenantId, UserId};
use crate::phone::PhoneNumber;

/// A password hash in PHC string form (`$argon2id$v=19$m=...`). Not secret in itself, but never
/// logged either: its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string produced by the hasher or read from storage.
    #[must_use]
    pub fn new(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    /// The PHC string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// A person with an account in one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// The tenant the account belongs to.
    pub tenant_id: TenantId,
    /// Normalised email, unique within the tenant.
    pub email: Email,
    /// Display name.
    pub full_name: FullName,
    /// Mobile number for SMS, unique across the platform.
    pub phone: Option<PhoneNumber>,
    /// Whether the number was confirmed with a code sent to it; only then does it get texts.
    pub phone_verified: bool,
    /// The password hash.
    pub password_hash: PasswordHash,
    /// Role within the tenant.
    pub role: Role,
    /// Whether the account may log in.
    pub is_active: bool,
    /// Whether the user agreed to receive SMS.
    pub sms_opt_in: bool,
    /// Set when the user planted a restricted crop.
    pub flagged: bool,
    /// Incremented at every revocation; access tokens carry the version they were issued at.
    pub token_version: i64,
    /// When access tokens were last revoked (logout everywhere, password change, deactivation).
    pub tokens_valid_after: Option<DateTime<Utc>>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
    /// When the user last logged in.
    pub last_login_at: Option<DateTime<Utc>>,
}

/// The part of an account that every authenticated request checks: whether its access tokens
/// still open it, and with which role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountStanding {
    /// Moved by every revocation; a token carries the version it was issued at.
    pub token_version: i64,
    /// Deactivated accounts accept no token.
    pub is_active: bool,
    /// The role within the tenant.
    pub role: Role,
}

impl AccountStanding {
    /// Whether an access token issued at `token_version` still opens the account. Tokens from
    /// before the latest revocation are refused, and so is every token of an inactive account.
    ///
    /// The version, not the whole-second `iat`, decides: a token issued in the same second as a
    /// revocation but after it is still accepted, and one issued before it never is.
    #[must_use]
    pub const fn accepts_access_token(&self, token_version: i64) -> bool {
        self.is_active && token_version == self.token_version
    }
}

impl User {
    /// Whether an access token issued at `token_version` still opens this account. Tokens from
    /// before the latest revocation are refused, and so is every token of an inactive account.
    ///
    /// The version, not the whole-second `iat`, decides: a token issued in the same second as a
    /// revocation but after it is still accepted, and one issued before it never is.
    #[must_use]
    pub const fn accepts_access_token(&self, token_version: i64) -> bool {
        self.standing().accepts_access_token(token_version)
    }

    /// What its access tokens are checked against.
    #[must_use]
    pub const fn standing(&self) -> AccountStanding {
        AccountStanding {
            token_version: self.token_version,
            is_active: self.is_active,
            role: self.role,
        }
    }

    /// Ends every session at `at`: access tokens issued before stop opening the account, and
    /// refresh families started before are refused.
    pub fn revoke_tokens(&mut self, at: DateTime<Utc>) {
        self.token_version += 1;
        self.tokens_valid_after = Some(at);
        self.updated_at = at;
    }

    /// Closes the account at `at`: no token opens it from now on. Its sessions are ended by
    /// [`User::revoke_tokens`] in the same change, so that a reactivation does not revive them.
    pub const fn deactivate(&mut self, at: DateTime<Utc>) {
        self.is_active = false;
        self.updated_at = at;
    }

    /// Opens a closed account again at `at`; its old sessions stay ended.
    pub const fn reactivate(&mut self, at: DateTime<Utc>) {
        self.is_active = true;
        self.updated_at = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(is_active: bool, token_version: i64) -> User {
        let now = Utc::now();
        User {
            id: UserId::from_uuid(uuid::Uuid::now_v7()),
            tenant_id: TenantId::from_uuid(uuid::Uuid::now_v7()),
            email: Email::parse("ada@example.com").unwrap(),
            full_name: FullName::parse("Ada").unwrap(),
            phone: None,
            phone_verified: false,
            password_hash: PasswordHash::new("$argon2id$secret"),
            role: Role::Member,
            is_active,
            sms_opt_in: false,
            flagged: false,
            token_version,
            tokens_valid_after: None,
            created_at: now,
            updated_at: now,
            last_login_at: None,
        }
    }

    #[test]
    fn a_token_of_the_current_version_is_accepted() {
        assert!(user(true, 3).accepts_access_token(3));
    }

    #[test]
    fn a_token_from_before_a_revocation_is_refused() {
        assert!(!user(true, 3).accepts_access_token(2));
    }

    #[test]
    fn an_inactive_account_accepts_no_token() {
        assert!(!user(false, 3).accepts_access_token(3));
    }

    #[test]
    fn a_revocation_refuses_every_token_issued_before_it() {
        let mut account = user(true, 3);
        let at = Utc::now();
        account.revoke_tokens(at);
        assert!(!account.accepts_access_token(3));
        assert!(account.accepts_access_token(account.token_version));
        assert_eq!(account.tokens_valid_after, Some(at));
    }

    #[test]
    fn a_deactivated_account_accepts_no_token_even_after_reactivation() {
        let mut account = user(true, 3);
        let at = Utc::now();
        account.deactivate(at);
        account.revoke_tokens(at);
        assert!(!account.is_active);
        assert!(!account.accepts_access_token(account.token_version));
        account.reactivate(Utc::now());
        assert!(account.is_active);
        assert!(
            !account.accepts_access_token(3),
            "the old sessions stay ended"
        );
    }

    #[test]
    fn the_password_hash_never_prints() {
        assert!(!format!("{:?}", user(true, 0)).contains("secret"));
    }
}
