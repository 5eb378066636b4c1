//! W3C trace context on outgoing calls: the `traceparent` of the current span, so that the
//! OpenAI and Twilio calls join the request's trace in whatever tracing those services keep.

use opentelemetry::propagation::Injector;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

struct ReqwestHeaders<'a>(&'a mut HeaderMap);

impl Injector for ReqwestHeaders<'_> {
    fn set(&mut self, key: &str, value: String) {
        // The propagator also writes `tracestate`, usually empty: an empty header says nothing.
        if value.is_empty() {
            return;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// `traceparent` (and a non-empty `tracestate`) for the current span; no headers when traces
/// are off.
#[must_use]
pub fn outgoing_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut ReqwestHeaders(&mut headers));
    });
    headers
}
