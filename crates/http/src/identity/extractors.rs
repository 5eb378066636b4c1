//! Who is calling: the bearer token's principal, a tenant administrator, a platform administrator.

use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpMessage as _, HttpRequest, dev::Payload, http::header, web};
use application::{
    admin::{AdminActor, AdminRefused},
    identity::{AuthenticateError, Principal},
};

use crate::{
    ApiState,
    errors::{ApiError, Refusal},
};

/// The header carrying the platform admin key.
pub const ADMIN_KEY_HEADER: &str = "x-admin-api-key";

type Extraction<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// Marks a request as authenticated, so that its response is never cached.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuthenticatedRequest;

fn state(req: &HttpRequest) -> Result<web::Data<ApiState>, ApiError> {
    req.app_data::<web::Data<ApiState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("the application state is missing"))
}

/// The token of an `Authorization: Bearer` header (scheme in any case), if any.
pub(crate) fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|token| !token.is_empty())
}

/// The authenticated caller, from `Authorization: Bearer <access token>`. Missing or invalid
/// tokens answer 401 with `WWW-Authenticate: Bearer`.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated(pub Principal);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = state(req);
        let token = bearer_token(req);
        // A middleware that authenticated this request already (idempotency) left the principal.
        let known = req.extensions().get::<Principal>().copied();
        req.extensions_mut().insert(AuthenticatedRequest);
        Box::pin(async move {
            let principal = match known {
                Some(principal) => principal,
                None => {
                    let state = state?;
                    let token = token.ok_or(Refusal::MissingToken)?;
                    state
                        .identity
                        .authenticate(&token)
                        .await
                        .map_err(|error| match error {
                            AuthenticateError::InvalidToken => {
                                ApiError::from(Refusal::InvalidToken)
                            }
                            AuthenticateError::Store(error) => ApiError::from(error),
                        })?
                }
            };
            tracing::Span::current().record("user_id", tracing::field::display(principal.user_id));
            Ok(Self(principal))
        })
    }
}

/// An authenticated administrator of their own tenant; other callers get 403.
#[derive(Debug, Clone, Copy)]
pub struct TenantAdmin(pub Principal);

impl FromRequest for TenantAdmin {
    type Error = ApiError;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let authenticated = Authenticated::from_request(req, payload);
        Box::pin(async move {
            let Authenticated(principal) = authenticated.await?;
            if principal.is_tenant_admin() {
                Ok(Self(principal))
            } else {
                Err(Refusal::NotTenantAdmin.into())
            }
        })
    }
}

/// A platform administrator, from `X-Admin-API-Key`. A missing or wrong key, or an instance
/// without keys, answers 403; every refusal is audited.
#[derive(Debug, Clone)]
pub struct PlatformAdmin(pub AdminActor);

impl FromRequest for PlatformAdmin {
    type Error = ApiError;
    type Future = Extraction<Self>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = state(req);
        let key = req
            .headers()
            .get(ADMIN_KEY_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let action = format!(
            "{} {}",
            req.method(),
            req.match_pattern().unwrap_or_else(|| req.path().to_owned())
        );
        req.extensions_mut().insert(AuthenticatedRequest);
        Box::pin(async move {
            let state = state?;
            state
                .admin
                .authorize(key.as_deref(), &action)
                .await
                .map(Self)
                .map_err(|refused| match refused {
                    AdminRefused::Disabled => Refusal::AdminApiDisabled.into(),
                    AdminRefused::InvalidKey => Refusal::InvalidAdminKey.into(),
                    AdminRefused::Store(error) => ApiError::from(error),
                })
        })
    }
}
