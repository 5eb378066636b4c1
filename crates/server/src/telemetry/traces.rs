//! Export of spans over OTLP, when an endpoint is configured.

use std::time::Duration;

use opentelemetry::{
    Context, KeyValue,
    trace::{
        Link, SamplingDecision, SamplingResult, SpanKind, TraceContextExt as _, TraceId,
        TracerProvider as _,
    },
};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::{
    Resource,
    trace::{Sampler, SdkTracerProvider, ShouldSample},
};
use tracing::Subscriber;
use tracing_subscriber::{
    EnvFilter, Layer,
    filter::{FilterExt as _, LevelFilter, dynamic_filter_fn, filter_fn},
    registry::LookupSpan,
};

use crate::config::{OtlpProtocol, Settings};

/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// What is exported: our spans and the database's at `info`, never the exporter's own HTTP and
/// gRPC machinery (whose spans would be exported by exporting them, forever).
const EXPORTED: &str = "info,plant_texts::untraced=off,h2=off,hyper=off,hyper_util=off,tonic=off,tower=off,reqwest=off,opentelemetry=off,opentelemetry_sdk=off,opentelemetry_otlp=off,opentelemetry_http=off";

/// The most verbose level exported. Every part of the exporter's filter says so: a part without
/// a hint leaves the whole layer without one, and then every `debug!` and `trace!` of every
/// crate, and every record of the `log` crate, is asked about at run time instead of being
/// skipped at once (measured in docs/benchmarks.md).
const EXPORTED_LEVEL: LevelFilter = LevelFilter::INFO;

/// Owns the span exporter: [`TelemetryGuard::shutdown`] exports what is buffered.
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// The exporter for `settings`; none without an endpoint, or when the exporter cannot be
    /// built (said on stderr: logging is not up yet).
    pub(super) fn new(settings: &Settings) -> Self {
        let Some(endpoint) = settings.observability.otel.endpoint.as_deref() else {
            return Self::default();
        };
        match provider(settings, endpoint) {
            Ok(provider) => Self {
                provider: Some(provider),
            },
            Err(error) => {
                eprintln!("trace export disabled: {error}");
                Self::default()
            }
        }
    }

    /// Whether spans are exported.
    #[must_use]
    pub const fn is_exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// The layer that turns spans into OpenTelemetry spans; `None` without export.
    pub(super) fn layer<S>(&self) -> Option<impl Layer<S> + use<S>>
    where
        S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    {
        let provider = self.provider.as_ref()?;
        let filter = EnvFilter::try_new(EXPORTED).unwrap_or_else(|_| EnvFilter::new("info"));
        // Spans only: an event would travel as a span event with its fields as they are, past
        // the redaction the log lines get. A request's 5xx marks its span as an error, and the
        // cause is in the logs under the same trace id.
        Some(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("plant-texts"))
                .with_filter(
                    filter
                        .and(
                            filter_fn(|metadata| metadata.is_span())
                                .with_max_level_hint(EXPORTED_LEVEL),
                        )
                        // The children of a dropped request are dropped before they are made.
                        .and(
                            dynamic_filter_fn(|_, _| http_api::trace_context::is_exported_here())
                                .with_max_level_hint(EXPORTED_LEVEL),
                        ),
                ),
        )
    }

    /// Exports every finished span now. Blocks: call it outside async code (or from
    /// `spawn_blocking`).
    pub fn flush(&self) {
        if let Some(provider) = &self.provider
            && let Err(error) = provider.force_flush()
        {
            eprintln!("trace export flush failed: {error}");
        }
    }

    /// Exports what is buffered and stops the exporter. Blocks, like [`Self::flush`].
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("trace export shutdown failed: {error}");
        }
    }
}

fn provider(
    settings: &Settings,
    endpoint: &str,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = match settings.observability.otel.protocol {
        OtlpProtocol::Grpc => SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_timeout(EXPORT_TIMEOUT)
            .build()?,
        // An endpoint given in code is used as is: the signal's path is ours to add.
        OtlpProtocol::HttpProtobuf => SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
            .with_timeout(EXPORT_TIMEOUT)
            .build()?,
    };
    let resource = Resource::builder()
        .with_service_name(settings.observability.otel.service_name.clone())
        .with_attribute(KeyValue::new(
            "deployment.environment.name",
            settings.environment.as_str(),
        ))
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_resource(resource)
        .with_sampler(DecidedAtTheEdge::new(
            settings.observability.otel.sampler_ratio,
        ))
        .with_batch_exporter(exporter)
        .build())
}

/// Parent-based ratio sampling, except for a request's span that starts a trace: the request-id
/// middleware has already sampled it at the same ratio (`http_api::trace_context::TraceSampling`),
/// before the span was made, and a dropped request's span never reaches the exporter.
#[derive(Debug, Clone)]
struct DecidedAtTheEdge {
    otherwise: Sampler,
}

impl DecidedAtTheEdge {
    fn new(ratio: f64) -> Self {
        Self {
            otherwise: Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio))),
        }
    }
}

impl ShouldSample for DecidedAtTheEdge {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let starts_a_trace = parent_context.is_none_or(|parent| !parent.has_active_span());
        if starts_a_trace && name == http_api::trace_context::REQUEST_SPAN_NAME {
            return SamplingResult {
                decision: SamplingDecision::RecordAndSample,
                attributes: Vec::new(),
                trace_state: opentelemetry::trace::TraceState::default(),
            };
        }
        self.otherwise
            .should_sample(parent_context, trace_id, name, span_kind, attributes, links)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceState};

    use super::*;

    fn decide(sampler: &DecidedAtTheEdge, parent: Option<&Context>, name: &str) -> bool {
        let trace_id = TraceId::from_bytes(rand::random::<u128>().to_be_bytes());
        let result = sampler.should_sample(parent, trace_id, name, &SpanKind::Internal, &[], &[]);
        result.decision == SamplingDecision::RecordAndSample
    }

    fn under_a_parent(sampled: bool) -> Context {
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from_bytes(rand::random::<u128>().to_be_bytes()),
            SpanId::from_bytes(rand::random::<u64>().to_be_bytes()),
            if sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            },
            true,
            TraceState::default(),
        ))
    }

    #[test]
    fn a_request_starting_a_trace_was_sampled_upstream_and_is_kept() {
        let never = DecidedAtTheEdge::new(0.0);
        assert!(decide(&never, None, "http.request"));
        assert!(decide(&never, Some(&Context::new()), "http.request"));
    }

    #[test]
    fn other_spans_starting_a_trace_follow_the_ratio() {
        assert!(!decide(
            &DecidedAtTheEdge::new(0.0),
            None,
            "sms.outbox.deliver"
        ));
        assert!(decide(
            &DecidedAtTheEdge::new(1.0),
            None,
            "sms.outbox.deliver"
        ));
    }

    #[test]
    fn a_span_under_a_parent_follows_the_parent() {
        let always = DecidedAtTheEdge::new(1.0);
        let never = DecidedAtTheEdge::new(0.0);
        assert!(!decide(
            &always,
            Some(&under_a_parent(false)),
            "http.request"
        ));
        assert!(!decide(&always, Some(&under_a_parent(false)), "db.query"));
        assert!(decide(&never, Some(&under_a_parent(true)), "http.request"));
        assert!(decide(&never, Some(&under_a_parent(true)), "db.query"));
    }
}
