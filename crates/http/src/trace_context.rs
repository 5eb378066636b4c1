//! The request's place in a distributed trace (W3C Trace Context): the caller's `traceparent`
//! is honoured, probes and scrapes are never traced, and every request has a trace id and span
//! id for its log lines, exported or not.

use actix_web::http::header::{HeaderMap, HeaderName};
use opentelemetry::{
    Context,
    propagation::Extractor,
    trace::{SpanId, TraceContextExt as _, TraceId},
};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Whether requests to `path` are left out of traces.
#[must_use]
pub fn is_untraced(path: &str) -> bool {
    // A trace of a probe or a scrape shows nothing.
    crate::ops::is_probe_or_scrape(path)
}

/// The name of every request's span. The exporter's sampler keeps such a span when it starts a
/// trace: the request-id middleware has already decided that its trace is sampled.
pub const REQUEST_SPAN_NAME: &str = "http.request";

/// The target of the request spans whose trace is not exported (probes, scrapes, and the
/// requests the sampler drops), which the exporter's filter refuses at once: the span is never
/// built for the OpenTelemetry layer, and neither are its children (see [`is_exported_here`]).
pub const INVISIBLE_TARGET: &str = "plant_texts::untraced";

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

/// Which requests' traces are exported: the sampling decision, taken once per request before
/// its span exists, so that the spans of a dropped request (nine in ten at a ratio of 0.1) cost
/// the exporter's layer nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceSampling {
    exporting: bool,
    ratio: f64,
}

impl TraceSampling {
    /// No exporter: no request is sampled.
    pub const OFF: Self = Self {
        exporting: false,
        ratio: 0.0,
    };

    /// An exporter is running: a caller's trace is sampled as the caller says (parent-based),
    /// a new one with probability `ratio` (clamped to 0..=1).
    #[must_use]
    pub fn exporting(ratio: f64) -> Self {
        Self {
            exporting: true,
            ratio: ratio.clamp(0.0, 1.0),
        }
    }

    /// Where the request for `path` with `headers` sits in its trace, and whether its trace is
    /// exported. Probes and scrapes never are, whatever the caller says.
    #[must_use]
    pub fn place(&self, headers: &HeaderMap, path: &str) -> Placement {
        let caller = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&ActixHeaders(headers))
        });
        let callers = caller.span().span_context().clone();
        let traced = self.exporting && !is_untraced(path);
        if callers.is_valid() {
            Placement {
                trace_id: callers.trace_id(),
                sampled: traced && callers.is_sampled(),
                caller: Some(caller),
            }
        } else {
            Placement {
                trace_id: random_trace_id(),
                sampled: traced && self.keeps_a_new_trace(),
                caller: None,
            }
        }
    }

    fn keeps_a_new_trace(&self) -> bool {
        self.ratio >= 1.0 || rand::random::<f64>() < self.ratio
    }
}

/// A request's place in its trace, decided before its span is made.
#[derive(Debug)]
pub struct Placement {
    /// The caller's context, when it sent a valid `traceparent`.
    caller: Option<Context>,
    /// The caller's trace id, or a new one (replaced by the exporter's when a new trace is
    /// sampled).
    trace_id: TraceId,
    /// Whether the request's spans are exported.
    pub sampled: bool,
}

/// The ids a request's log lines carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceIds {
    /// 32 lower-case hex digits.
    pub trace_id: String,
    /// 16 lower-case hex digits.
    pub span_id: String,
    /// Whether the request's span is exported (its name can be updated).
    pub exported: bool,
}

/// Places `span`, a request's root span not yet entered, in its trace: when its trace is
/// sampled, under the caller's span (or as a new trace), and the ids for the logs are the
/// exported span's; otherwise the span never reaches the exporter and the ids are the caller's
/// trace id (or a new one) with a new span id.
pub fn join_trace(span: &tracing::Span, placement: Placement) -> TraceIds {
    if placement.sampled {
        // Fails only when no OpenTelemetry layer is installed: the ids are made below.
        let joined = placement
            .caller
            .map_or(Ok(()), |caller| span.set_parent(caller));
        if joined.is_ok() {
            let context = span.context();
            let own = context.span().span_context().clone();
            if own.is_valid() {
                return TraceIds {
                    trace_id: own.trace_id().to_string(),
                    span_id: own.span_id().to_string(),
                    exported: true,
                };
            }
        }
    }
    TraceIds {
        trace_id: placement.trace_id.to_string(),
        span_id: random_span_id().to_string(),
        exported: false,
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

    const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929b0e0e4736";

    fn from_a_caller(flags: &'static str) -> HeaderMap {
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("traceparent"),
            HeaderValue::from_str(&format!("00-{CALLER_TRACE}-00f067aa0ba902b7-{flags}")).unwrap(),
        );
        headers
    }

    #[test]
    fn without_traces_a_callers_trace_id_is_kept_for_the_logs() {
        let placement = TraceSampling::OFF.place(&from_a_caller("01"), "/api/v2/plants");
        assert!(!placement.sampled);
        let ids = join_trace(&tracing::Span::none(), placement);
        assert_eq!(ids.trace_id, CALLER_TRACE);
        assert_eq!(ids.span_id.len(), 16);
        assert!(!ids.exported);
    }

    #[test]
    fn without_a_caller_every_request_gets_ids_of_its_own() {
        let sampling = TraceSampling::exporting(1.0);
        let first = join_trace(
            &tracing::Span::none(),
            sampling.place(&HeaderMap::new(), "/api/v2/plants"),
        );
        let second = join_trace(
            &tracing::Span::none(),
            sampling.place(&HeaderMap::new(), "/api/v2/plants"),
        );
        assert_eq!(first.trace_id.len(), 32);
        assert_ne!(first.trace_id, second.trace_id);
        assert_ne!(first.span_id, second.span_id);
    }

    #[test]
    fn a_callers_sampled_flag_decides_whatever_the_ratio() {
        let never = TraceSampling::exporting(0.0);
        assert!(never.place(&from_a_caller("01"), "/api/v2/plants").sampled);
        let always = TraceSampling::exporting(1.0);
        assert!(!always.place(&from_a_caller("00"), "/api/v2/plants").sampled);
    }

    #[test]
    fn a_new_trace_is_sampled_at_the_ratio() {
        let count = |ratio: f64| {
            let sampling = TraceSampling::exporting(ratio);
            (0..10_000)
                .filter(|_| sampling.place(&HeaderMap::new(), "/api/v2/plants").sampled)
                .count()
        };
        assert_eq!(count(0.0), 0);
        assert_eq!(count(1.0), 10_000);
        // Binomial(10 000, 0.1): 1 000 ± 30; outside 800..1 200 one run in more than 10^20.
        let tenth = count(0.1);
        assert!((800..1_200).contains(&tenth), "{tenth} of 10 000 sampled");
        // A ratio outside 0..=1 is clamped, not trusted.
        assert_eq!(count(7.0), 10_000);
    }

    #[test]
    fn probes_and_scrapes_are_never_sampled_even_when_the_caller_is_tracing() {
        let sampling = TraceSampling::exporting(1.0);
        for path in [
            "/health",
            "/health/live",
            "/health/ready",
            "/ready",
            "/metrics",
        ] {
            assert!(is_untraced(path), "{path}");
            assert!(
                !sampling.place(&from_a_caller("01"), path).sampled,
                "{path}"
            );
        }
        for path in ["/api/v2/plants", "/metrics/", "/healthz"] {
            assert!(!is_untraced(path), "{path}");
            assert!(sampling.place(&from_a_caller("01"), path).sampled, "{path}");
        }
    }

    #[test]
    fn without_an_exporter_no_request_is_sampled() {
        assert!(
            !TraceSampling::OFF
                .place(&HeaderMap::new(), "/api/v2/plants")
                .sampled
        );
        assert!(
            !TraceSampling::OFF
                .place(&from_a_caller("01"), "/api/v2/plants")
                .sampled
        );
    }
}
