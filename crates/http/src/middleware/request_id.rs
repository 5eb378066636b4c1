//! `X-Request-ID`: accepted from the caller when well-formed, generated otherwise, echoed on
//! every response, attached to the request's tracing span, its log lines (through
//! [`crate::correlation`]) and every problem body. The span's end and the access line are
//! [`super::access_log`]'s.

use std::time::Instant;

use actix_web::{
    Error, HttpMessage,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    error::InternalError,
    http::header::{HeaderMap, HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::{Instrument, field::Empty};

use application::client;

use super::access_log::Completion;
use crate::{
    client_presence::ClientSocket,
    correlation::{self, Correlation},
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

/// Middleware: assigns the request id, runs the request inside its span, answers an error that
/// left the inner services, echoes `X-Request-ID`, and logs one line per request. `sampling` decides, before the request's span exists, whether its trace
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
        .map_or_else(new_request_id, str::to_owned);
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
    let client = req.conn_data::<ClientSocket>().map(ClientSocket::presence);
    let served = within_trace(trace.exported, next.call(req).instrument(span.clone()));
    let outcome = correlation::scope(ids.clone(), client::serve(client, served)).await;
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

/// A new request id: a UUIDv7, its random part from the thread's generator. `Uuid::now_v7`
/// asks the kernel for those bytes, a system call on every request that a probe felt.
fn new_request_id() -> String {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let millis = u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX);
    uuid::Builder::from_unix_timestamp_millis(millis, &rand::random())
        .into_uuid()
        .to_string()
}

/// Finishes an answered request: the echoed id and the completed span.
fn answer(
    mut response: ServiceResponse<BoxBody>,
    completion: &Completion<'_>,
) -> ServiceResponse<BoxBody> {
    echo_request_id(response.headers_mut());
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
    fn generated_ids_are_distinct_version_7_uuids() {
        let first = uuid::Uuid::parse_str(&new_request_id()).unwrap();
        let second = uuid::Uuid::parse_str(&new_request_id()).unwrap();
        assert_eq!(first.get_version_num(), 7);
        assert_eq!(first.get_variant(), uuid::Variant::RFC4122);
        assert_ne!(first, second);
        assert!(is_acceptable(&first.to_string()));
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
