//! `X-Request-ID`: accepted from the caller when well-formed, generated otherwise, echoed on
//! every response, attached to the request's tracing span, its log lines (through
//! [`crate::correlation`]) and every problem body.

use std::time::Instant;

use actix_web::{
    Error, HttpMessage, ResponseError,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    error::InternalError,
    http::{
        Method, StatusCode,
        header::{self, HeaderMap, HeaderName, HeaderValue},
    },
    middleware::Next,
};
use opentelemetry::trace::TraceContextExt as _;
use tracing::{Instrument, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::{
    correlation::{self, Correlation},
    errors::ApiError,
    identity::extractors::AuthenticatedRequest,
    trace_context::{INVISIBLE_TARGET, REQUEST_SPAN_NAME, TraceSampling, join_trace, within_trace},
};

/// The request id header.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, in request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

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
/// line per request. `sampling` decides, before the request's span exists, whether its trace
/// is exported.
///
/// # Errors
/// None of its own: errors of inner services are turned into responses here.
pub async fn assign_request_id(
    sampling: TraceSampling,
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
                REQUEST_SPAN_NAME,
                otel.kind = "server",
                otel.status_code = Empty,
                request_id = %id,
                http.request.method = %req.method(),
                url.path = %req.path(),
                http.route = Empty,
                user_id = Empty,
                http.response.status_code = Empty,
                duration_ms = Empty,
                )
        };
    }
    let placement = sampling.place(req.headers(), req.path());
    let span = if placement.sampled {
        request_span!(module_path!())
    } else {
        request_span!(INVISIBLE_TARGET)
    };
    let trace = join_trace(&span, placement);
    let method = req.method().clone();
    let started = Instant::now();
    let ids = Correlation {
        request_id: id,
        trace_id: trace.trace_id,
        span_id: trace.span_id,
    };
    let outcome = correlation::scope(
        ids.clone(),
        within_trace(trace.exported, next.call(req).instrument(span.clone())),
    )
    .await;
    // The tail runs in the request's scope too: its log lines and problem bodies carry the ids.
    correlation::sync_scope(ids, || {
        let _entered = span.enter();
        let completion = Completion {
            span: &span,
            method: &method,
            exported: trace.exported,
            started,
        };
        match outcome {
            Ok(response) => Ok(answer(response.map_into_boxed_body(), &completion)),
            Err(error) => {
                // An inner middleware failed (a caught panic, for one). The request was consumed
                // by routing, so the error leaves as an error whose response is written here.
                let mut response = error.error_response();
                echo_request_id(response.headers_mut());
                completion.record(response.status().as_u16(), None);
                Err(InternalError::from_response(error, response).into())
            }
        }
    })
}

/// Finishes an answered request: a problem body where one is missing, the echoed id,
/// `no-store` for what an authenticated caller sees, and the completed span.
fn answer(
    response: ServiceResponse<BoxBody>,
    completion: &Completion<'_>,
) -> ServiceResponse<BoxBody> {
    let mut response = ensure_problem_body(response);
    echo_request_id(response.headers_mut());
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
    completion.record(response.status().as_u16(), response.request().match_name());
    response
}

/// Writes the current request's id into `X-Request-ID`.
fn echo_request_id(headers: &mut HeaderMap) {
    let value = correlation::with_current(|ids| HeaderValue::from_str(&ids.request_id).ok());
    if let Some(value) = value.flatten() {
        headers.insert(REQUEST_ID_HEADER, value);
    }
}

/// What completing a request's span needs to know.
struct Completion<'a> {
    span: &'a tracing::Span,
    method: &'a Method,
    /// Whether the span goes to the OpenTelemetry layer.
    exported: bool,
    started: Instant,
}

impl Completion<'_> {
    /// Completes the request's span: status, duration, route and, when it is exported, its name
    /// in the semantic conventions' form (`GET /api/v2/plants/{id}`) and an error status on a
    /// 5xx; then logs the access line.
    fn record(&self, status: u16, route: Option<&str>) {
        let span = self.span;
        let duration_ms = i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        // Signed: OpenTelemetry keeps integers as i64 (an unsigned one arrives as text).
        span.record("http.response.status_code", i64::from(status));
        span.record("duration_ms", duration_ms);
        if let Some(route) = route {
            span.record("http.route", route);
        }
        if self.exported {
            // The span has started (its ids were read), so the name is set on it directly.
            let name = match route {
                Some(route) => format!("{} {route}", self.method),
                None => self.method.to_string(),
            };
            span.context().span().update_name(name);
        }
        if status >= 500 {
            span.record("otel.status_code", "ERROR");
        }
        tracing::info!(status, duration_ms, "request completed");
    }
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
}
