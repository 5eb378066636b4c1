//! The end of a request: its span completed (status, duration, route, the exported name) and
//! one access line logged.

use std::time::Instant;

use actix_web::http::Method;
use opentelemetry::trace::TraceContextExt as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// What completing a request's span needs to know.
pub(super) struct Completion<'a> {
    pub(super) span: &'a tracing::Span,
    pub(super) method: &'a Method,
    /// Whether the span goes to the OpenTelemetry layer.
    pub(super) exported: bool,
    pub(super) started: Instant,
}

impl Completion<'_> {
    /// Completes the request's span: status, duration, route and, when it is exported, its name
    /// in the semantic conventions' form (`GET /api/v2/plants/{id}`) and an error status on a
    /// 5xx; then logs the access line (method, route pattern when one matched, status and
    /// duration).
    pub(super) fn record(&self, status: u16, route: Option<&str>) {
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
        // The route pattern, not the path: a line names what was asked without its ids, and a
        // log search groups by it the way the metrics do.
        tracing::info!(
            method = self.method.as_str(),
            route,
            status,
            duration_ms,
            "request completed"
        );
    }
}
