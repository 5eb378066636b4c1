//! Export of spans over OTLP, when an endpoint is configured.

use std::time::Duration;

use opentelemetry::{KeyValue, trace::TracerProvider as _};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::{
    Resource,
    trace::{Sampler, SdkTracerProvider},
};
use tracing::Subscriber;
use tracing_subscriber::{
    EnvFilter, Layer,
    filter::{FilterExt as _, dynamic_filter_fn, filter_fn},
    registry::LookupSpan,
};

use crate::config::{OtlpProtocol, Settings};

/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// What is exported: our spans and the database's at `info`, never the exporter's own HTTP and
/// gRPC machinery (whose spans would be exported by exporting them, forever).
const EXPORTED: &str = "info,plant_texts::untraced=off,h2=off,hyper=off,hyper_util=off,tonic=off,tower=off,reqwest=off,opentelemetry=off,opentelemetry_sdk=off,opentelemetry_otlp=off,opentelemetry_http=off";

/// Owns the span exporter: [`TelemetryGuard::shutdown`] exports what is buffered.
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// The exporter for `settings`; none without an endpoint, or when the exporter cannot be
    /// built (said on stderr: logging is not up yet).
    pub(super) fn new(settings: &Settings) -> Self {
        let Some(endpoint) = settings.otel.endpoint.as_deref() else {
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
                        .and(filter_fn(|metadata| metadata.is_span()))
                        // The children of a dropped request are dropped before they are made.
                        .and(dynamic_filter_fn(|_, _| {
                            http_api::trace_context::is_exported_here()
                        })),
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
    let exporter = match settings.otel.protocol {
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
        .with_service_name(settings.otel.service_name.clone())
        .with_attribute(KeyValue::new(
            "deployment.environment.name",
            settings.environment.as_str(),
        ))
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_resource(resource)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            settings.otel.sampler_ratio,
        ))))
        .with_batch_exporter(exporter)
        .build())
}
