//! Logs and traces (SPEC §7).
//!
//! - Logs: JSON lines outside development (timestamp, level, target, message, the event's
//!   fields, then request_id, trace_id, span_id, service and environment at the top level),
//!   pretty text in development, filtered by `RUST_LOG`; every line passes the redaction of
//!   [`redaction`] on its way out, whatever field a secret or a phone number hides in.
//! - Traces: OpenTelemetry over OTLP (gRPC or HTTP/protobuf) when OTEL_EXPORTER_OTLP_ENDPOINT is
//!   set, parent-based ratio sampling; without an endpoint no layer is installed at all.

mod json_lines;
pub mod redaction;
mod traces;

use tracing_subscriber::{
    EnvFilter, Layer as _,
    fmt::{self, MakeWriter},
    layer::SubscriberExt as _,
    util::SubscriberInitExt as _,
};

use self::json_lines::{JsonLines, SkipSpanFields};
pub use self::{redaction::Redacting, traces::TelemetryGuard};
use crate::config::{LogFormat, Settings};

/// Installs the global subscriber writing to stdout. Logs from the `log` crate (sqlx's
/// slow-statement warnings) are forwarded to it. Installs nothing when a subscriber is already
/// installed (tests).
///
/// With gRPC export, call it inside the Tokio runtime that outlives the returned guard.
#[must_use = "shut the guard down before exit, so that buffered spans are exported"]
pub fn init(settings: &Settings) -> TelemetryGuard {
    init_with_writer(settings, std::io::stdout)
}

/// As [`init`], writing the log lines to `writer`.
#[must_use = "shut the guard down before exit, so that buffered spans are exported"]
pub fn init_with_writer<W>(settings: &Settings, writer: W) -> TelemetryGuard
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let guard = TelemetryGuard::new(settings);
    let filter = EnvFilter::try_new(&settings.observability.log_filter)
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = Redacting::new(writer);
    let logs = match settings.observability.log_format {
        LogFormat::Json => fmt::layer()
            .fmt_fields(SkipSpanFields)
            .event_format(JsonLines::new(
                &settings.observability.otel.service_name,
                settings.environment.as_str(),
            ))
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
        // No colours: escape codes between a field's name and its value would hide the name
        // from the redaction.
        LogFormat::Pretty => fmt::layer()
            .with_ansi(false)
            .with_target(true)
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
    };
    let installed = tracing_subscriber::registry()
        .with(guard.layer())
        .with(logs)
        .try_init();
    if installed.is_ok() {
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            traces = guard.is_exporting(),
            "logging initialised"
        );
    }
    guard
}
