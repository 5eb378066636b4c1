//! `/api/v2/auth/*`: register, login, refresh, logout, logout-all.

use actix_web::{HttpResponse, http::header, web};
use application::identity::{Credentials, Registration};
use domain::secret::Secret;

use super::{
    documents::{
        LoginRequest, RefreshTokenRequest, RegisterRequest, TokenPairDocument, UserDocument,
    },
    extractors::Authenticated,
};
use crate::json_body::JsonBody;
use crate::{
    ApiState,
    errors::{ApiError, Problem},
};

/// Create an account.
///
/// Joins an open tenant as a `member`. Every invalid field is listed in the problem's `errors`.
#[utoipa::path(
    post,
    path = "/api/v2/auth/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; `Location` is /api/v2/me", body = UserDocument),
        (status = 403, description = "The tenant does not accept sign-ups (ERR_TENANT_002)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No tenant has this slug (ERR_TENANT_001)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email (ERR_USER_001) or phone (ERR_USER_002) already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn register(
    state: web::Data<ApiState>,
    body: JsonBody<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let registration = Registration::try_from(body.into_inner())?;
    let user = state.identity.register(registration).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/api/v2/me"))
        .json(UserDocument::from(&user)))
}

/// Log in.
///
/// An unknown tenant, an unknown email and a wrong password all answer the same 401.
#[utoipa::path(
    post,
    path = "/api/v2/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A new session", body = TokenPairDocument),
        (status = 401, description = "Wrong tenant, email or password (ERR_AUTH_002)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is deactivated (ERR_AUTH_003)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login(
    state: web::Data<ApiState>,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let credentials = Credentials::try_from(body.into_inner())?;
    let session = state.identity.log_in(credentials).await?;
    Ok(no_store(HttpResponse::Ok()).json(TokenPairDocument::from(session)))
}

/// Exchange a refresh token for a new pair.
///
/// The refresh token is single-use: presenting it again revokes every token of its session.
#[utoipa::path(
    post,
    path = "/api/v2/auth/refresh",
    tag = "auth",
    request_body = RefreshTokenRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenPairDocument),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token (ERR_AUTH_005)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "refresh_token is missing (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn refresh(
    state: web::Data<ApiState>,
    body: JsonBody<RefreshTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = Secret::try_from(body.into_inner())?;
    let session = state.identity.refresh(&token).await?;
    Ok(no_store(HttpResponse::Ok()).json(TokenPairDocument::from(session)))
}

/// Log out of one session: its refresh token and every token rotated from it stop working.
#[utoipa::path(
    post,
    path = "/api/v2/auth/logout",
    tag = "auth",
    request_body = RefreshTokenRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session is over"),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "refresh_token is missing (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn logout(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    body: JsonBody<RefreshTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = Secret::try_from(body.into_inner())?;
    state.identity.log_out(&principal, &token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Log out everywhere: every access and refresh token issued so far stops working.
#[utoipa::path(
    post,
    path = "/api/v2/auth/logout-all",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session is over"),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn logout_all(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
) -> Result<HttpResponse, ApiError> {
    state.identity.log_out_everywhere(&principal).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Token responses are never cached.
fn no_store(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}
