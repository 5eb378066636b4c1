//! REQUEST_TIMEOUT_SECS: a request that takes longer — in its handler, or in the rate-limit and
//! idempotency stores it reaches first — is answered 503 and dropped, so one stuck dependency
//! cannot pile up requests.

use std::time::Duration;

use actix_web::{
    Error,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};

use crate::errors::ApiError;

/// Middleware: answers 503 with a problem body when the inner service takes longer than
/// `limit`.
///
/// # Errors
/// Passes inner errors on.
pub async fn limit_duration(
    limit: Duration,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // On timeout the request is gone with the dropped call, so the answer leaves as an error;
    // the request-id middleware writes its response.
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(outcome) => outcome.map(ServiceResponse::map_into_boxed_body),
        Err(_) => Err(ApiError::TimedOut {
            after_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
        }
        .into()),
    }
}
