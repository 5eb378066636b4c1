//! Logs, traces and metrics: LOG_FORMAT, RUST_LOG, OTEL_*, METRICS_TOKEN.

use domain::secret::Secret;

use super::{
    parse::{Reader, is_http_url},
    settings::Environment,
};

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable, coloured.
    Pretty,
}

/// How spans travel to the OTLP endpoint (OTEL_EXPORTER_OTLP_PROTOCOL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// `grpc`, usually port 4317.
    Grpc,
    /// `http/protobuf` (the default), usually port 4318; spans go to `<endpoint>/v1/traces`.
    HttpProtobuf,
}

/// OpenTelemetry settings.
#[derive(Debug, Clone)]
pub struct OtelSettings {
    /// OTLP endpoint; no export when unset.
    pub endpoint: Option<String>,
    /// How spans travel to it.
    pub protocol: OtlpProtocol,
    /// `service.name`.
    pub service_name: String,
    /// Parent-based sampling ratio.
    pub sampler_ratio: f64,
}

/// Where logs, traces and metrics go and who may read the metrics.
#[derive(Debug, Clone)]
pub struct ObservabilitySettings {
    /// Tracing export.
    pub otel: OtelSettings,
    pub log_format: LogFormat,
    /// Log filter directives.
    pub log_filter: String,
    /// Bearer token for `/metrics`.
    pub metrics_token: Option<Secret>,
}

impl ObservabilitySettings {
    pub(super) fn read(r: &mut Reader, environment: Environment) -> Self {
        let endpoint = r.text("OTEL_EXPORTER_OTLP_ENDPOINT");
        if endpoint.as_deref().is_some_and(|url| !is_http_url(url)) {
            r.problem("OTEL_EXPORTER_OTLP_ENDPOINT", "must be an http(s) URL");
        }
        let default_ratio = if environment == Environment::Production {
            0.1
        } else {
            1.0
        };
        let protocol = match r.text("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
            None | Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
            Some("grpc") => OtlpProtocol::Grpc,
            Some(_) => {
                r.problem(
                    "OTEL_EXPORTER_OTLP_PROTOCOL",
                    "must be grpc or http/protobuf",
                );
                OtlpProtocol::HttpProtobuf
            }
        };
        let otel = OtelSettings {
            endpoint,
            protocol,
            service_name: r.text_or("OTEL_SERVICE_NAME", "plant-texts"),
            sampler_ratio: r.number("OTEL_TRACES_SAMPLER_ARG", default_ratio, 0.0, 1.0),
        };
        let log_format = match r.text("LOG_FORMAT").as_deref() {
            None if environment.is_deployed() => LogFormat::Json,
            None => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(_) => {
                r.problem("LOG_FORMAT", "must be json or pretty");
                LogFormat::Json
            }
        };
        let log_filter = r.text_or("RUST_LOG", "info,sqlx=warn,sea_orm=warn");
        if tracing_subscriber::EnvFilter::try_new(&log_filter).is_err() {
            r.problem(
                "RUST_LOG",
                "must be valid tracing filter directives such as info,sqlx=warn",
            );
        }
        let metrics_token = r.secret("METRICS_TOKEN");
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.expose().chars().count() < 16)
        {
            r.problem("METRICS_TOKEN", "must be at least 16 characters");
        }
        Self {
            otel,
            log_format,
            log_filter,
            metrics_token,
        }
    }
}
