//! The ports identity use cases reach the outside world through.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    identity::{
        AccountStanding, Email, FullName, Password, PasswordHash, Role, Tenant, TenantId,
        TenantSlug, User, UserId,
    },
    phone::PhoneNumber,
    secret::Secret,
};
use uuid::Uuid;

use crate::{
    paging::{Page, PageRequest},
    store::StoreError,
};

/// The profile columns one change writes; `None` leaves a column alone.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    /// A new display name.
    pub full_name: Option<FullName>,
    /// A new phone number (unverified until confirmed), or `Some(None)` to remove it.
    pub phone: Option<Option<PhoneNumber>>,
    /// New SMS consent.
    pub sms_opt_in: Option<bool>,
    /// A new password hash.
    pub password_hash: Option<PasswordHash>,
    /// The hash the new one replaces: the write happens only while it is still stored, so two
    /// password changes racing never both win.
    pub replaces_password_hash: Option<PasswordHash>,
    /// When the change was made.
    pub updated_at: DateTime<Utc>,
}

/// Why a user could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum SaveUserError {
    /// Another account of the tenant has this email.
    #[error("the email address is already registered in this tenant")]
    EmailTaken,
    /// Another account of the platform has this phone number.
    #[error("the phone number is already registered")]
    PhoneTaken,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a tenant could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum SaveTenantError {
    /// Another tenant has this slug.
    #[error("the slug is taken")]
    SlugTaken,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Tenants.
#[async_trait]
pub trait TenantRepository: Send + Sync {
    /// Stores a new tenant.
    ///
    /// # Errors
    /// [`SaveTenantError::SlugTaken`] when the slug exists.
    async fn create(&self, tenant: &Tenant) -> Result<(), SaveTenantError>;

    /// The tenant with this slug.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError>;

    /// The tenant with this id.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find(&self, id: TenantId) -> Result<Option<Tenant>, StoreError>;

    /// Tenants, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn list(&self, page: PageRequest) -> Result<Page<Tenant>, StoreError>;
}

/// User accounts. Every method but [`UserRepository::find_on_platform`] is scoped by tenant: a
/// user of another tenant is simply not found.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new user.
    ///
    /// # Errors
    /// [`SaveUserError::EmailTaken`] / [`SaveUserError::PhoneTaken`] on a uniqueness conflict.
    async fn create(&self, user: &User) -> Result<(), SaveUserError>;

    /// The user of `tenant` with this email.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find_by_email(
        &self,
        tenant: TenantId,
        email: &Email,
    ) -> Result<Option<User>, StoreError>;

    /// The user of `tenant` with this id.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find(&self, tenant: TenantId, id: UserId) -> Result<Option<User>, StoreError>;

    /// What an access token of the account is checked against (token version, active, role),
    /// or `None` when no such account is in the tenant. May be answered from a short-lived
    /// cache: every committed change to the standing drops it there, at once in this process
    /// and, where the database announces changes, in the others.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn find_standing(
        &self,
        tenant: TenantId,
        id: UserId,
    ) -> Result<Option<AccountStanding>, StoreError>;

    /// The user with this id in any tenant: for the platform administrator only.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find_on_platform(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// Records a login at `at` — `last_login_at` alone — only while the account is active and
    /// its token version is still `token_version` (nothing revoked it since it was read).
    /// Answers whether it was recorded. Inside a transaction the row stays locked until the
    /// commit, so a concurrent revocation waits for the session being started and then ends it.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn record_login(
        &self,
        tenant: TenantId,
        id: UserId,
        token_version: i64,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Replaces the password hash with `new` only where it still is `old` (a rehash on login
    /// never undoes a concurrent password change). Answers whether it was replaced.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn replace_password_hash(
        &self,
        tenant: TenantId,
        id: UserId,
        old: &PasswordHash,
        new: &PasswordHash,
    ) -> Result<bool, StoreError>;

    /// Writes the profile fields `update` carries — and only those — plus `updated_at`. Answers
    /// whether the account was written (`false`: gone, or its password hash is no longer
    /// `update.replaces_password_hash`).
    ///
    /// # Errors
    /// [`SaveUserError::PhoneTaken`] when the phone belongs to another account.
    async fn update_profile(
        &self,
        tenant: TenantId,
        id: UserId,
        update: &ProfileUpdate,
    ) -> Result<bool, SaveUserError>;

    /// Marks the account's phone verified, only while its number still is `phone` (a change
    /// meanwhile needs a code of its own). Answers whether it was marked.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn mark_phone_verified(
        &self,
        tenant: TenantId,
        id: UserId,
        phone: &PhoneNumber,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Sets activity and role (platform administration), the ones given, plus `updated_at`.
    /// Answers whether there was such a user.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn set_access(
        &self,
        id: UserId,
        is_active: Option<bool>,
        role: Option<Role>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Revokes every access token issued so far: increments the token version and sets
    /// `tokens_valid_after` to `at`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn revoke_tokens(
        &self,
        tenant: TenantId,
        id: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Erases the user and everything they own. Answers whether there was such a user.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; nothing is erased then.
    async fn erase(&self, tenant: TenantId, id: UserId) -> Result<bool, StoreError>;

    /// Up to `limit` rows of `table` about the user, in id order, after the row whose id is
    /// `after`: one page of the export, so that its memory does not grow with the account.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn export_page(
        &self,
        tenant: TenantId,
        id: UserId,
        table: ExportTable,
        after: Option<String>,
        limit: u64,
    ) -> Result<ExportPage, StoreError>;
}

/// The tables an account export reads, in the order it writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTable {
    /// The account's own row (with `last_login_at`, without the password hash).
    Account,
    /// Their plants.
    UserPlants,
    /// Their plants' conversations.
    Messages,
    /// The texts sent to them (verification codes masked).
    SmsLog,
    /// The texts received from them.
    InboundSms,
    /// The codes sent to verify their number (hashes only).
    PhoneVerifications,
    /// The administrators' audit entries about them.
    AdminAuditLog,
    /// Their gardens.
    Gardens,
    /// The plantings of their gardens.
    Plantings,
    /// What happened to their plantings.
    PlantingEvents,
    /// Their attempts to plant restricted crops (kept after erasure: the audit is immutable).
    ComplianceAudit,
}

impl ExportTable {
    /// Every table, in export order.
    pub const ALL: [Self; 11] = [
        Self::Account,
        Self::UserPlants,
        Self::Messages,
        Self::SmsLog,
        Self::InboundSms,
        Self::PhoneVerifications,
        Self::AdminAuditLog,
        Self::Gardens,
        Self::Plantings,
        Self::PlantingEvents,
        Self::ComplianceAudit,
    ];

    /// The table's name in the export.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::UserPlants => "user_plants",
            Self::Messages => "messages",
            Self::SmsLog => "sms_log",
            Self::InboundSms => "inbound_sms",
            Self::PhoneVerifications => "phone_verifications",
            Self::AdminAuditLog => "admin_audit_log",
            Self::Gardens => "gardens",
            Self::Plantings => "plantings",
            Self::PlantingEvents => "planting_events",
            Self::ComplianceAudit => "compliance_audit",
        }
    }
}

/// One page of an exported table.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportPage {
    /// The rows, as JSON objects.
    pub rows: Vec<serde_json::Value>,
    /// The id of the last row, to read the next page after; `None` when this was the last.
    pub next_after: Option<String>,
}

/// A stored refresh token: only the hash of the token is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub id: Uuid,
    /// The owner's tenant.
    pub tenant_id: TenantId,
    /// The owner.
    pub user_id: UserId,
    /// The chain of rotations it belongs to (one per login).
    pub family_id: Uuid,
    /// The hash of the token.
    pub token_hash: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was used or revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The token that replaced it on rotation.
    pub replaced_by: Option<Uuid>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
}

/// Refresh tokens.
#[async_trait]
pub trait RefreshTokenRepository: Send + Sync {
    /// Stores a new token.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn insert(&self, record: &RefreshTokenRecord) -> Result<(), StoreError>;

    /// The token with this hash.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn find_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenRecord>, StoreError>;

    /// Atomically marks `old` as used and replaced by `new`, and stores `new` — only if `old` was
    /// still live. Answers `false` (storing nothing) when `old` had been used already: a
    /// concurrent reuse.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn rotate(
        &self,
        old: Uuid,
        new: &RefreshTokenRecord,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Revokes every live token of a family.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn revoke_family(
        &self,
        user: UserId,
        family: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Revokes every live token of the user.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn revoke_all(&self, user: UserId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// When the family's first token was issued (its login), `None` for an unknown family.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn family_started_at(&self, family: Uuid) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Every token of the user, for the GDPR export.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn list_for_user(&self, user: UserId) -> Result<Vec<RefreshTokenRecord>, StoreError>;
}

/// How a password compared with a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// Wrong password.
    Mismatch,
    /// Right password, hash made with the current parameters.
    Match,
    /// Right password, but the hash was made with other parameters: store a new one.
    MatchNeedsRehash,
}

/// Why the password hasher gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum HasherError {
    /// Every hashing slot is taken and the queue is full: retry in a moment (503).
    #[error("password hashing is at capacity")]
    Busy,
    /// Hashing failed (a malformed stored hash, a worker that died).
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Hashes and verifies passwords. Slow on purpose.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// A new PHC hash of `password` with a fresh salt.
    ///
    /// # Errors
    /// [`HasherError`] when hashing fails.
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HasherError>;

    /// Compares `candidate` with `hash` in constant time.
    ///
    /// # Errors
    /// [`HasherError`] when the stored hash cannot be read.
    async fn verify(
        &self,
        candidate: &Secret,
        hash: &PasswordHash,
    ) -> Result<PasswordCheck, HasherError>;

    /// Spends as long as [`PasswordHasher::verify`] on a hash that matches nothing, so that an
    /// unknown account costs the same time as a wrong password.
    ///
    /// # Errors
    /// [`HasherError::Busy`] exactly when a real verification would be refused.
    async fn verify_dummy(&self, candidate: &Secret) -> Result<(), HasherError>;

    /// Whether a verification asked for now would be taken rather than refused as busy: lets a
    /// login refuse before it reads the account when the answer is certain to be
    /// [`HasherError::Busy`]. A hint only; the verification itself still decides.
    fn has_room(&self) -> bool;
}

/// What an access token says about its bearer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessClaims {
    /// `sub`.
    pub user_id: UserId,
    /// `tid`.
    pub tenant_id: TenantId,
    /// `role`.
    pub role: Role,
    /// The user's token version when the token was issued.
    pub token_version: i64,
}

/// A signed access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The compact JWT.
    pub token: Secret,
    /// Seconds until it expires.
    pub expires_in_secs: u64,
}

/// A new refresh token: the value for the client and the hash to store.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    /// The opaque token the client keeps.
    pub token: Secret,
    /// Its hash, the only form stored.
    pub token_hash: String,
}

/// Why an access token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the access token is not valid: {0}")]
pub struct TokenRejected(pub String);

/// Signs and verifies access tokens, makes refresh tokens.
pub trait TokenService: Send + Sync {
    /// Signs an access token for `claims`, issued at `now`.
    ///
    /// # Errors
    /// [`TokenRejected`] when signing fails.
    fn issue_access(
        &self,
        claims: &AccessClaims,
        now: DateTime<Utc>,
    ) -> Result<AccessToken, TokenRejected>;

    /// Verifies signature, algorithm, issuer, audience and expiry, and reads the claims.
    ///
    /// # Errors
    /// [`TokenRejected`] when any check fails.
    fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenRejected>;

    /// A new random refresh token and its hash.
    fn new_refresh_token(&self) -> NewRefreshToken;

    /// The hash of a refresh token presented by a client.
    fn hash_refresh_token(&self, token: &str) -> String;

    /// How long refresh tokens live.
    fn refresh_ttl(&self) -> Duration;

    /// How long a refresh family lives after its login, whatever the rotations.
    fn session_lifetime(&self) -> Duration;
}
