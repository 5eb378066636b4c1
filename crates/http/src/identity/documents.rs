//! Request and response bodies of the identity routes, and their parsing into commands.

use application::identity::{
    AccountExport, Credentials, ProfileChanges, Registration, Session, ports::RefreshTokenRecord,
};
use chrono::{DateTime, Utc};
use domain::{
    identity::{Email, FullName, Password, TenantSlug, User},
    phone::PhoneNumber,
    secret::Secret,
    sms::verification::VerificationCode,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    errors::ApiError,
    fields::{FieldErrors, present},
};

/// POST /api/v2/auth/register
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// The tenant's slug.
    #[schema(example = "demo")]
    pub tenant: Option<String>,
    /// Email address (trimmed and lower-cased).
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
    /// 12-128 characters, not a common password, not containing the email or tenant.
    #[schema(value_type = Option<String>, format = Password, example = "correct horse battery staple")]
    pub password: Option<Secret>,
    /// 1-100 characters after trimming.
    #[schema(example = "Ada Lovelace")]
    pub full_name: Option<String>,
    /// E.164 mobile number.
    #[schema(example = "+14155552671")]
    pub phone: Option<String>,
}

impl TryFrom<RegisterRequest> for Registration {
    type Error = ApiError;

    fn try_from(request: RegisterRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let tenant = errors.parse("tenant", request.tenant.as_deref(), TenantSlug::parse);
        let email = errors.parse("email", request.email.as_deref(), Email::parse);
        let password = errors
            .required("password", request.password.as_ref().map(Secret::expose))
            .and_then(|text| {
                let checked = match (&email, &tenant) {
                    (Some(email), Some(tenant)) => Password::parse(text, email, tenant).map(Some),
                    _ => Password::check_alone(text).map(|()| None),
                };
                checked
                    .map_err(|rejected| errors.add("password", rejected))
                    .ok()
                    .flatten()
            });
        let full_name = errors.parse("full_name", request.full_name.as_deref(), FullName::parse);
        let phone = match request.phone.as_deref() {
            None => Some(None),
            Some(text) => PhoneNumber::parse(text)
                .map(Some)
                .map_err(|error| errors.add("phone", error))
                .ok(),
        };
        let registration = (|| {
            Some(Self {
                tenant: tenant?,
                email: email?,
                password: password?,
                full_name: full_name?,
                phone: phone?,
            })
        })();
        errors.finish(registration)
    }
}

/// POST /api/v2/auth/login
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The tenant's slug.
    #[schema(example = "demo")]
    pub tenant: Option<String>,
    /// Email address.
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
    /// Password.
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<Secret>,
}

impl TryFrom<LoginRequest> for Credentials {
    type Error = ApiError;

    fn try_from(request: LoginRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let tenant = errors.required("tenant", request.tenant.as_deref());
        let email = errors.required("email", request.email.as_deref());
        let password = errors.required("password", request.password.as_ref().map(Secret::expose));
        let credentials = (|| {
            Some(Self {
                tenant: tenant?.to_owned(),
                email: email?.to_owned(),
                password: Secret::new(password?),
            })
        })();
        errors.finish(credentials)
    }
}

/// POST /api/v2/auth/refresh and /api/v2/auth/logout
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshTokenRequest {
    /// The refresh token from login or the last refresh.
    #[schema(value_type = Option<String>, format = Password)]
    pub refresh_token: Option<Secret>,
}

impl TryFrom<RefreshTokenRequest> for Secret {
    type Error = ApiError;

    fn try_from(request: RefreshTokenRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let token = errors.required(
            "refresh_token",
            request.refresh_token.as_ref().map(Secret::expose),
        );
        errors.finish(token.map(Secret::new))
    }
}

/// A new token pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPairDocument {
    /// Bearer token for API calls.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Single-use token for POST /api/v2/auth/refresh.
    pub refresh_token: String,
}

impl From<Session> for TokenPairDocument {
    fn from(session: Session) -> Self {
        Self {
            access_token: session.access_token.expose().to_owned(),
            token_type: "Bearer",
            expires_in: session.expires_in_secs,
            refresh_token: session.refresh_token.expose().to_owned(),
        }
    }
}

/// A user account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDocument {
    /// Id (UUID v7).
    pub id: Uuid,
    /// The tenant.
    pub tenant_id: Uuid,
    /// Normalised email.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// E.164 number.
    pub phone: Option<String>,
    /// Whether the number was confirmed with a code (POST /api/v2/me/phone/verification); only
    /// a verified number receives texts.
    pub phone_verified: bool,
    /// `member` or `admin`.
    #[schema(example = "member")]
    pub role: &'static str,
    /// Whether the account may log in.
    pub is_active: bool,
    /// Whether the user agreed to receive SMS.
    pub sms_opt_in: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&User> for UserDocument {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.as_uuid(),
            tenant_id: user.tenant_id.as_uuid(),
            email: user.email.as_str().to_owned(),
            full_name: user.full_name.as_str().to_owned(),
            phone: user.phone.as_ref().map(|p| p.as_str().to_owned()),
            phone_verified: user.phone_verified,
            role: user.role.as_str(),
            is_active: user.is_active,
            sms_opt_in: user.sms_opt_in,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// PATCH /api/v2/me
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateMeRequest {
    /// New display name.
    pub full_name: Option<String>,
    /// New E.164 number; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// SMS consent.
    pub sms_opt_in: Option<bool>,
    /// New password (needs `current_password`).
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<Secret>,
    /// The current password, required with `password`.
    #[schema(value_type = Option<String>, format = Password)]
    pub current_password: Option<Secret>,
}

impl TryFrom<UpdateMeRequest> for ProfileChanges {
    type Error = ApiError;

    fn try_from(request: UpdateMeRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let full_name = match request.full_name.as_deref() {
            None => Some(None),
            Some(text) => FullName::parse(text)
                .map(Some)
                .map_err(|error| errors.add("full_name", error))
                .ok(),
        };
        let phone = match request.phone {
            None => Some(None),
            Some(None) => Some(Some(None)),
            Some(Some(text)) => PhoneNumber::parse(&text)
                .map(|phone| Some(Some(phone)))
                .map_err(|error| errors.add("phone", error))
                .ok(),
        };
        if request.password.is_some() && request.current_password.is_none() {
            errors.add("current_password", "is required to change the password");
        }
        let changes = (|| {
            Some(Self {
                full_name: full_name?,
                phone: phone?,
                sms_opt_in: request.sms_opt_in,
                password: request.password,
                current_password: request.current_password,
            })
        })();
        errors.finish(changes)
    }
}

/// DELETE /api/v2/me
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteMeRequest {
    /// The account's password, to confirm.
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<Secret>,
}

impl TryFrom<DeleteMeRequest> for Secret {
    type Error = ApiError;

    fn try_from(request: DeleteMeRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let password = errors.required("password", request.password.as_ref().map(Secret::expose));
        errors.finish(password.map(Secret::new))
    }
}

/// A session as stored: the token itself is never kept, only its hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDocument {
    /// Id of the refresh token.
    pub id: Uuid,
    /// The login it descends from.
    pub family_id: Uuid,
    /// Issued.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
    /// Used or revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<RefreshTokenRecord> for SessionDocument {
    fn from(record: RefreshTokenRecord) -> Self {
        Self {
            id: record.id,
            family_id: record.family_id,
            created_at: record.created_at,
            expires_at: record.expires_at,
            revoked_at: record.revoked_at,
        }
    }
}

/// GET /api/v2/me/export: everything held about the caller. Streamed: the head first, then
/// `records` a page at a time.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportDocument {
    /// When the export was made.
    pub exported_at: DateTime<Utc>,
    /// The account.
    pub user: UserDocument,
    /// Their sessions.
    pub sessions: Vec<SessionDocument>,
    /// Every other row about them, by table: `account` (with `last_login_at`), `user_plants`,
    /// `messages`, `sms_log`, `inbound_sms`, `phone_verifications`, `admin_audit_log`.
    #[schema(value_type = Object)]
    #[serde(skip)]
    pub records: (),
}

impl ExportDocument {
    /// The document's head (everything but `records`) for `export`.
    #[must_use]
    pub fn head(export: &AccountExport) -> Self {
        Self {
            exported_at: export.exported_at,
            user: UserDocument::from(&export.user),
            sessions: export.sessions.iter().cloned().map(Into::into).collect(),
            records: (),
        }
    }
}

/// POST /api/v2/me/phone/verification/confirm
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConfirmPhoneRequest {
    /// The six digits of the code texted to the number.
    #[schema(value_type = Option<String>, example = "123456")]
    pub code: Option<Secret>,
}

impl TryFrom<ConfirmPhoneRequest> for VerificationCode {
    type Error = ApiError;

    fn try_from(request: ConfirmPhoneRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let code = errors.parse(
            "code",
            request.code.as_ref().map(Secret::expose),
            VerificationCode::parse,
        );
        errors.finish(code)
    }
}

/// The answer to a verification request.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationSentDocument {
    /// Where the code went (masked).
    #[schema(example = "+1415***2671")]
    pub sent_to: String,
    /// Seconds the code stays valid.
    #[schema(example = 600)]
    pub expires_in: i64,
}
