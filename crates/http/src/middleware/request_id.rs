//! `X-Request-ID`: accepted from the caller when well-formed, generated otherwise, echoed on
//! every response, attached to the request's tracing span and to every problem body.

use std::time::Instant;

use actix_web::{
    Error, HttpMessage, ResponseError,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    error::InternalError,
    http::{
        Method, StatusCode,
        header::{self, HeaderName, HeaderValue},
    },
    middleware::Next,
};
use opentelemetry::trace::TraceContextExt as _;
use tracing::{Instrument, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::{
    errors::ApiError,
    identity::extractors::AuthenticatedRequest,
    trace_context::{INVISIBLE_TARGET, is_invisible, is_untraced, join_trace, within_trace},
};

/// The request id header.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT_REQUEST_ID: String;
}

/// The id of the request being served, in request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// The id of the request the current task is serving, if any.
#[must_use]
pub fn current() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

/// Whether a caller's id may be reused: 1-128 characters of `[A-Za-z0-9._-]`.
#[must_use]
pub fn is_acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Middleware: assigns the request id, runs the request inside its span, turns any error
/// response that is not yet a problem document into one, echoes `X-Request-ID`, and logs one
/// line per request.
///
/// # Errors
/// None of its own: errors of inner services are turned into responses here.
pub async fn assign_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_acceptable(value))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));

    // One field list, two targets: see `trace_context::INVISIBLE_TARGET`.
    macro_rules! request_span {
        ($target:expr) => {
            tracing::info_span!(
                target: $target,
                "http.request",
                otel.kind = "server",
                otel.status_code = Empty,
                request_id = %id,
                trace_id = Empty,
                span_id = Empty,
                http.request.method = %req.method(),
                url.path = %req.path(),
                http.route = Empty,
                user_id = Empty,
                http.response.status_code = Empty,
                duration_ms = Empty,
                )
        };
    }
    let span = if is_invisible(req.path()) {
        request_span!(INVISIBLE_TARGET)
    } else {
        request_span!(module_path!())
    };
    let trace = join_trace(&span, req.headers(), is_untraced(req.path()));
    span.record("trace_id", trace.trace_id.as_str());
    span.record("span_id", trace.span_id.as_str());
    let method = req.method().clone();
    let started = Instant::now();
    let outcome = CURRENT_REQUEST_ID
        .scope(
            id.clone(),
            within_trace(
                trace.sampled || !trace.traced,
                next.call(req).instrument(span.clone()),
            ),
        )
        .await;

    let response = match outcome {
        Ok(response) => CURRENT_REQUEST_ID.sync_scope(id.clone(), || {
            let _entered = span.enter();
            ensure_problem_body(response.map_into_boxed_body())
        }),
        Err(error) => {
            // An inner middleware failed (a caught panic, for one). The request was consumed by
            // routing, so the error leaves as an error whose response is written here, in scope.
            let mut response = CURRENT_REQUEST_ID.sync_scope(id.clone(), || {
                let _entered = span.enter();
                error.error_response()
            });
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            record_completion(
                &span,
                &method,
                trace.traced,
                response.status().as_u16(),
                started,
                None,
            );
            return Err(InternalError::from_response(error, response).into());
        }
    };
    let mut response = response;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    // What an authenticated caller sees is theirs alone: no cache may keep it.
    if response
        .request()
        .extensions()
        .contains::<AuthenticatedRequest>()
    {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let route = response.request().match_name();
    record_completion(
        &span,
        &method,
        trace.traced,
        response.status().as_u16(),
        started,
        route,
    );
    Ok(response)
}

/// Completes the request's span: status, duration, route and, when it is exported, its name in
/// the semantic conventions' form (`GET /api/v2/plants/{id}`) and an error status on a 5xx.
fn record_completion(
    span: &tracing::Span,
    method: &Method,
    exported: bool,
    status: u16,
    started: Instant,
    route: Option<&str>,
) {
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    // Signed: OpenTelemetry keeps integers as i64 (an unsigned one arrives as text).
    span.record("http.response.status_code", i64::from(status));
    span.record("duration_ms", duration_ms);
    if let Some(route) = route {
        span.record("http.route", route);
    }
    if exported {
        // The span has started (its ids were read), so the name is set on it directly.
        let name = match route {
            Some(route) => format!("{method} {route}"),
            None => method.to_string(),
        };
        span.context().span().update_name(name);
    }
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    span.in_scope(|| tracing::info!(status, duration_ms, "request completed"));
}

/// Safety net: an error response that is not JSON, produced by a part of actix we do not control
/// (an extractor without our error handler, a protocol error), gets a problem body.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_caller_ids_are_accepted() {
        for id in ["a", "abc-123_X.y", &"x".repeat(128)] {
            assert!(is_acceptable(id), "{id}");
        }
    }

    #[test]
    fn malformed_caller_ids_are_replaced() {
        for id in [
            "",
            &"x".repeat(129),
            "has space",
            "semi;colon",
            "ünïcode",
            "new\nline",
        ] {
            assert!(!is_acceptable(id), "{id:?}");
        }
    }

    #[test]
    fn outside_a_request_there_is_no_current_id() {
        assert_eq!(current(), None);
    }
}
