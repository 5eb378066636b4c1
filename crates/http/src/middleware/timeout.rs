//! REQUEST_TIMEOUT_SECS: a request whose handler takes longer is answered 503 and its handler
//! dropped, so one stuck dependency cannot pile up requests.

use actix_web::{
    Error,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};

use crate::{ApiState, errors::ApiError};

/// Middleware: answers 503 with a problem body when the inner service takes longer than the
/// configured request timeout.
///
/// # Errors
/// Passes inner errors on.
pub async fn limit_duration(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(limit) = req
        .app_data::<web::Data<ApiState>>()
        .map(|state| state.settings.request_timeout)
    else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
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
