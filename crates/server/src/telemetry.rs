//! Logs: JSON lines outside development, pretty text in development, filtered by `RUST_LOG`.

use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt as _, util::SubscriberInitExt as _};

use crate::config::{LogFormat, Settings};

/// Installs the global subscriber. Logs from the `log` crate (sqlx's slow-statement warnings)
/// are forwarded to it. Does nothing when a subscriber is already installed (tests).
pub fn init(settings: &Settings) {
    let filter =
        EnvFilter::try_new(&settings.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match settings.log_format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_target(true),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().with_target(true)).try_init(),
    };
    if installed.is_ok() {
        tracing::info!(
            service = %settings.otel.service_name,
            environment = settings.environment.as_str(),
            version = env!("CARGO_PKG_VERSION"),
            "logging initialised"
        );
    }
}
