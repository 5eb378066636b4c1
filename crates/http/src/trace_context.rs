//! The request's place in a distributed trace (W3C Trace Context): the caller's `traceparent`
//! is honoured, probes and scrapes are never traced, and every request has a trace id and span
//! id for its log lines, exported or not.

use actix_web::http::header::{HeaderMap, HeaderName};
use opentelemetry::{
    Context,
    propagation::Extractor,
    trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState},
};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Whether requests to `path` are left out of traces.
#[must_use]
pub fn is_untraced(path: &str) -> bool {
    // A trace of a probe or a scrape shows nothing.
    crate::ops::is_probe_or_scrape(path)
}

/// The target of the request spans of `/health/live` and `/metrics`, which the exporter's
/// filter drops at once: they call nothing that makes spans, and the busiest probe should not
/// pay for a span it never exports. (The other untraced paths reach the database, so their
/// spans stay, under an unsampled parent that hides their children too.)
pub const INVISIBLE_TARGET: &str = "plant_texts::untraced";

/// Whether the request span of `path` takes [`INVISIBLE_TARGET`].
#[must_use]
pub fn is_invisible(path: &str) -> bool {
    matches!(path, "/health/live" | "/metrics")
}

tokio::task_local! {
    static EXPORTED: bool;
}

/// Whether spans made now belong to an exported trace: false inside a request whose trace the
/// sampler dropped, so that its children skip the exporter's layer altogether (most requests,
/// at a ratio of 0.1); true elsewhere (workers, startup), where the sampler decides.
#[must_use]
pub fn is_exported_here() -> bool {
    EXPORTED.try_with(|exported| *exported).unwrap_or(true)
}

/// Runs `future` (a request's inner work) knowing whether its trace is exported.
pub async fn within_trace<F: Future>(exported: bool, future: F) -> F::Output {
    EXPORTED.scope(exported, future).await
}

struct ActixHeaders<'a>(&'a HeaderMap);

impl Extractor for ActixHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// The ids a request's log lines carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceIds {
    /// 32 lower-case hex digits.
    pub trace_id: String,
    /// 16 lower-case hex digits.
    pub span_id: String,
    /// Whether the span goes to the OpenTelemetry layer (traces are on), sampled or not.
    pub traced: bool,
    /// Whether the sampler keeps it (and so its children).
    pub sampled: bool,
}

/// Places `span`, a request's root span not yet entered, in its trace: under the caller's
/// `traceparent` when there is one; under an unsampled parent when `untraced`, so that neither
/// it nor its children are exported. Returns the ids for the logs — the exported span's when
/// traces are on, else the caller's trace id (or a new one) and a new span id.
pub fn join_trace(span: &tracing::Span, headers: &HeaderMap, untraced: bool) -> TraceIds {
    let parent = if untraced {
        Context::new().with_remote_span_context(SpanContext::new(
            random_trace_id(),
            random_span_id(),
            TraceFlags::default(),
            true,
            TraceState::default(),
        ))
    } else {
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&ActixHeaders(headers))
        })
    };
    // Fails only when no OpenTelemetry layer is installed (traces off): the ids are made below.
    if span.set_parent(parent.clone()).is_ok() {
        let context = span.context();
        let own = context.span().span_context().clone();
        if own.is_valid() {
            return TraceIds {
                trace_id: own.trace_id().to_string(),
                span_id: own.span_id().to_string(),
                traced: true,
                sampled: own.is_sampled(),
            };
        }
    }
    let caller = parent.span().span_context().clone();
    let trace_id = if caller.is_valid() {
        caller.trace_id()
    } else {
        random_trace_id()
    };
    TraceIds {
        trace_id: trace_id.to_string(),
        span_id: random_span_id().to_string(),
        traced: false,
        sampled: false,
    }
}

// A thread-local generator: asking the operating system twice per request shows in throughput.
fn random_trace_id() -> TraceId {
    TraceId::from_bytes(rand::random::<u128>().to_be_bytes())
}

fn random_span_id() -> SpanId {
    SpanId::from_bytes(rand::random::<u64>().to_be_bytes())
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    #[test]
    fn without_traces_a_callers_trace_id_is_kept_for_the_logs() {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("traceparent"),
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929b0e0e4736-00f067aa0ba902b7-01"),
        );
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let ids = join_trace(&tracing::Span::none(), &headers, false);
        assert_eq!(ids.trace_id, "4bf92f3577b34da6a3ce929b0e0e4736");
        assert_eq!(ids.span_id.len(), 16);
        assert!(!ids.traced);
    }

    #[test]
    fn without_a_caller_every_request_gets_ids_of_its_own() {
        let first = join_trace(&tracing::Span::none(), &HeaderMap::new(), false);
        let second = join_trace(&tracing::Span::none(), &HeaderMap::new(), true);
        assert_eq!(first.trace_id.len(), 32);
        assert_ne!(first.trace_id, second.trace_id);
        assert_ne!(first.span_id, second.span_id);
    }

    #[test]
    fn probes_and_scrapes_are_untraced_and_api_routes_are_not() {
        for path in [
            "/health",
            "/health/live",
            "/health/ready",
            "/ready",
            "/metrics",
        ] {
            assert!(is_untraced(path), "{path}");
        }
        for path in ["/api/v2/plants", "/metrics/", "/healthz"] {
            assert!(!is_untraced(path), "{path}");
        }
    }
}
