use actix_web::http::StatusCode;

/// A request refused for a reason the client can act on: authentication, permission, a missing
/// resource, a conflict, a foreign host, a reused idempotency key. Each kind has a fixed status, code and problem type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No bearer token (401).
    #[error("an access token is required")]
    MissingToken,
    /// A bearer token that is forged, expired, revoked or for another audience (401).
    #[error("the access token is not valid")]
    InvalidToken,
    /// Login with an unknown tenant or email, or a wrong password (401).
    #[error("the tenant, email or password is not correct")]
    InvalidCredentials,
    /// Login to a deactivated account (403).
    #[error("the account is deactivated")]
    AccountInactive,
    /// A wrong confirming password on PATCH or DELETE /me (403).
    #[error("the password is not correct")]
    WrongPassword,
    /// A refresh token that is unknown, expired, revoked or reused (401).
    #[error("the refresh token is not valid")]
    InvalidRefreshToken,
    /// The caller is not an administrator of their tenant (403).
    #[error("this operation needs a tenant administrator")]
    NotTenantAdmin,
    /// No admin key is configured (403).
    #[error("the admin API is disabled on this instance")]
    AdminApiDisabled,
    /// A missing or wrong X-Admin-API-Key (403).
    #[error("a valid X-Admin-API-Key is required")]
    InvalidAdminKey,
    /// No such resource, or not the caller's (404).
    #[error("no such resource")]
    ResourceNotFound,
    /// Sign-up to an unknown tenant (404).
    #[error("no tenant has this slug")]
    UnknownTenant,
    /// Sign-up to a tenant that does not accept sign-ups (403).
    #[error("this tenant does not accept sign-ups")]
    SignupClosed,
    /// The email is registered in the tenant already (409).
    #[error("the email address is already registered in this tenant")]
    EmailTaken,
    /// The phone number belongs to another account (409).
    #[error("the phone number is already registered")]
    PhoneTaken,
    /// A webhook request without Twilio's valid signature, or for another account (403).
    #[error("the webhook request is not signed by the SMS provider")]
    InvalidWebhookSignature,
    /// A phone verification code that is wrong, used or expired (422).
    #[error("the verification code is wrong, used or expired")]
    InvalidPhoneCode,
    /// A Host header this instance does not serve (400).
    #[error("this host is not served here")]
    InvalidHost,
    /// An Idempotency-Key reused with another request (422).
    #[error("the Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
    /// An Idempotency-Key whose first request is still running (409).
    #[error("a request with this Idempotency-Key is still in progress")]
    IdempotencyInProgress,
    /// The tenant slug exists (409).
    #[error("a tenant with this slug exists")]
    TenantSlugTaken,
    /// A planting of a restricted crop while compliance enforcement is on (422); the attempt
    /// is audited.
    #[error("planting this crop is restricted; the attempt has been recorded")]
    RestrictedCrop,
    /// A planting status move its life does not allow (422).
    #[error("a planting moves planned -> active -> harvested or removed, or planned -> removed")]
    PlantingStatusMove,
}

impl Refusal {
    /// Status, code and problem type slug.
    #[must_use]
    pub const fn parts(self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::MissingToken => (StatusCode::UNAUTHORIZED, "ERR_AUTH_001", "unauthenticated"),
            Self::InvalidToken => (StatusCode::UNAUTHORIZED, "ERR_AUTH_001", "unauthenticated"),
            Self::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "ERR_AUTH_002",
                "invalid-credentials",
            ),
            Self::AccountInactive => (StatusCode::FORBIDDEN, "ERR_AUTH_003", "account-inactive"),
            Self::WrongPassword => (StatusCode::FORBIDDEN, "ERR_AUTH_004", "wrong-password"),
            Self::InvalidRefreshToken => (
                StatusCode::UNAUTHORIZED,
                "ERR_AUTH_005",
                "invalid-refresh-token",
            ),
            Self::NotTenantAdmin => (StatusCode::FORBIDDEN, "ERR_AUTH_006", "forbidden"),
            Self::AdminApiDisabled => (StatusCode::FORBIDDEN, "ERR_ADMIN_001", "admin-disabled"),
            Self::InvalidAdminKey => (StatusCode::FORBIDDEN, "ERR_ADMIN_002", "admin-key"),
            Self::ResourceNotFound => (StatusCode::NOT_FOUND, "ERR_RESOURCE_001", "not-found"),
            Self::UnknownTenant => (StatusCode::NOT_FOUND, "ERR_TENANT_001", "unknown-tenant"),
            Self::SignupClosed => (StatusCode::FORBIDDEN, "ERR_TENANT_002", "signup-closed"),
            Self::TenantSlugTaken => (StatusCode::CONFLICT, "ERR_TENANT_003", "conflict"),
            Self::EmailTaken => (StatusCode::CONFLICT, "ERR_USER_001", "conflict"),
            Self::PhoneTaken => (StatusCode::CONFLICT, "ERR_USER_002", "conflict"),
            Self::InvalidHost => (StatusCode::BAD_REQUEST, "ERR_REQUEST_004", "invalid-host"),
            Self::InvalidPhoneCode => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "ERR_PHONE_001",
                "invalid-phone-code",
            ),
            Self::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "ERR_IDEMPOTENCY_001",
                "idempotency-key-reused",
            ),
            Self::IdempotencyInProgress => (
                StatusCode::CONFLICT,
                "ERR_IDEMPOTENCY_002",
                "idempotency-in-progress",
            ),
            Self::RestrictedCrop => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "ERR_COMPLIANCE_001",
                "restricted-crop",
            ),
            Self::PlantingStatusMove => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "ERR_PLANTING_001",
                "planting-status",
            ),
            Self::InvalidWebhookSignature => (
                StatusCode::FORBIDDEN,
                "ERR_WEBHOOK_001",
                "webhook-signature",
            ),
        }
    }

    /// The `WWW-Authenticate` challenge of a 401 (RFC 6750 §3).
    #[must_use]
    pub const fn challenge(self) -> Option<&'static str> {
        match self {
            Self::MissingToken | Self::InvalidCredentials | Self::InvalidRefreshToken => {
                Some("Bearer realm=\"plant-texts\"")
            }
            Self::InvalidToken => Some("Bearer realm=\"plant-texts\", error=\"invalid_token\""),
            _ => None,
        }
    }
}
