//! `Cache-Control: no-store` on everything an authenticated caller sees: it is theirs alone, and
//! no shared or browser cache may keep it.

use actix_web::{
    Error, HttpMessage as _,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderValue},
    middleware::Next,
};

use crate::identity::extractors::AuthenticatedRequest;

/// Middleware: marks the answer `no-store` when the request was authenticated (by a handler's
/// extractor, or by the idempotency replay on its behalf).
///
/// # Errors
/// Passes inner errors on.
pub async fn forbid_storing_private_answers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let mut response = next.call(req).await?.map_into_boxed_body();
    if response
        .request()
        .extensions()
        .contains::<AuthenticatedRequest>()
    {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}
