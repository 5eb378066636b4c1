//! The safety net for error answers: one that is not yet a problem document, produced by a part
//! of actix we do not control (an extractor without our error handler, a protocol error), gets
//! one.

use actix_web::{
    Error, ResponseError as _,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{StatusCode, header},
    middleware::Next,
};

use crate::errors::ApiError;

/// Middleware: replaces the body of a 4xx or 5xx answer that is not JSON with a problem
/// document of the same status (keeping `Allow`).
///
/// # Errors
/// Passes inner errors on: their responses are problem documents already.
pub async fn fill_problem_body(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let response = next.call(req).await?.map_into_boxed_body();
    Ok(ensure_problem_body(response))
}

fn ensure_problem_body(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    // Our own error documents (problems, and the health documents answered with 503) are JSON.
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| {
            let value = value.as_bytes();
            value.starts_with(b"application/problem+json") || value.starts_with(b"application/json")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let (request, _) = response.into_parts();
    let mut replacement = generic_error(status, request.path()).error_response();
    if let Some(allow) = allow {
        replacement.headers_mut().insert(header::ALLOW, allow);
    }
    ServiceResponse::new(request, replacement)
}

fn generic_error(status: StatusCode, path: &str) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::RouteNotFound {
            path: path.to_owned(),
        },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        status if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE => {
            ApiError::Internal {
                source: status.to_string().into(),
                expose: false,
            }
        }
        status => ApiError::Status(status),
    }
}
