//! `GET /metrics`: every series of SPEC §7 in Prometheus' text format (version 0.0.4).
//!
//! Requests are counted per route pattern in slots laid out once from the route table, so the
//! middleware that counts them takes no lock and allocates nothing.

use std::{
    collections::HashMap,
    fmt::Write as _,
    sync::{
        Arc,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

use actix_web::{
    HttpRequest, HttpResponse,
    http::{Method, header},
    web,
};
use application::{
    flags::{FeatureFlags, Flag},
    metrics::{DURATION_BUCKETS_SECONDS, Histogram, HistogramSnapshot, Metrics},
    ops::ConnectionPools,
};
use domain::secret::Secret;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::{
    ApiState,
    errors::{ApiError, Refusal},
    route_table::ROUTES,
};

/// The `route` label of requests no route matched: one series, whatever the path.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Methods with their own series; any other is counted as `OTHER`.
const METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];
const OTHER_METHOD: &str = "OTHER";

/// Statuses the API answers, each with its own counter; any other status is counted under
/// its class's first code would lie, so it goes to the `other` slot and is rendered as-is.
const STATUSES: [u16; 27] = [
    200, 201, 202, 204, 206, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 406, 408, 409, 412,
    413, 415, 422, 429, 500, 502, 503, 504,
];

fn status_slot(status: u16) -> Option<usize> {
    STATUSES.iter().position(|known| *known == status)
}

fn method_slot(method: &Method) -> usize {
    METHODS
        .iter()
        .position(|known| known == method)
        .unwrap_or(METHODS.len())
}

/// One route pattern and method's series.
#[derive(Debug, Default)]
struct RouteSeries {
    statuses: [AtomicU64; STATUSES.len()],
    /// Answers with a status outside [`STATUSES`], by status.
    other_statuses: std::sync::Mutex<Vec<(u16, u64)>>,
    durations: Histogram,
}

#[derive(Debug)]
struct HttpRegistry {
    /// Route patterns in table order, then [`UNMATCHED_ROUTE`].
    routes: Vec<&'static str>,
    slot_of_route: HashMap<&'static str, usize>,
    /// `routes.len() * (METHODS.len() + 1)` series, route-major.
    series: Vec<RouteSeries>,
    in_progress: AtomicI64,
}

/// Request counters and durations per route pattern and method, and requests in progress.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    registry: Arc<HttpRegistry>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        let mut routes: Vec<&'static str> = Vec::new();
        for spec in ROUTES {
            if !routes.contains(&spec.pattern) {
                routes.push(spec.pattern);
            }
        }
        routes.push(UNMATCHED_ROUTE);
        let slot_of_route = routes
            .iter()
            .enumerate()
            .map(|(slot, route)| (*route, slot))
            .collect();
        let series = (0..routes.len() * (METHODS.len() + 1))
            .map(|_| RouteSeries::default())
            .collect();
        Self {
            registry: Arc::new(HttpRegistry {
                routes,
                slot_of_route,
                series,
                in_progress: AtomicI64::new(0),
            }),
        }
    }
}

/// A request being counted in `http_requests_in_progress`; leaves the gauge when dropped, so
/// that a cancelled request does not stay in it.
#[derive(Debug)]
pub struct InProgress {
    registry: Arc<HttpRegistry>,
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.registry.in_progress.fetch_sub(1, Ordering::Relaxed);
    }
}

impl HttpMetrics {
    /// Counts a request as in progress until the returned guard is dropped.
    #[must_use]
    pub fn start(&self) -> InProgress {
        self.registry.in_progress.fetch_add(1, Ordering::Relaxed);
        InProgress {
            registry: Arc::clone(&self.registry),
        }
    }

    /// Counts one answered request to the route `pattern` (`None`: no route matched).
    pub fn record(&self, method: &Method, pattern: Option<&str>, status: u16, elapsed: Duration) {
        let registry = &self.registry;
        let route = pattern
            .and_then(|pattern| registry.slot_of_route.get(pattern))
            .or_else(|| registry.slot_of_route.get(UNMATCHED_ROUTE));
        let Some(route) = route else {
            return;
        };
        let series = &registry.series[route * (METHODS.len() + 1) + method_slot(method)];
        series.durations.observe(elapsed);
        if let Some(slot) = status_slot(status) {
            series.statuses[slot].fetch_add(1, Ordering::Relaxed);
        } else if let Ok(mut others) = series.other_statuses.lock() {
            // Rare (a status the API does not answer by design); a lock is fine here.
            match others.iter_mut().find(|(known, _)| *known == status) {
                Some((_, count)) => *count += 1,
                None => others.push((status, 1)),
            }
        }
    }

    fn render(&self, out: &mut String) {
        let registry = &self.registry;
        let method_name = |slot: usize| METHODS.get(slot).map_or(OTHER_METHOD, Method::as_str);
        let each_series = || {
            registry
                .routes
                .iter()
                .enumerate()
                .flat_map(move |(route_slot, route)| {
                    (0..=METHODS.len()).map(move |method_slot| {
                        (
                            *route,
                            method_name(method_slot),
                            &registry.series[route_slot * (METHODS.len() + 1) + method_slot],
                        )
                    })
                })
        };

        header(
            out,
            "http_requests_total",
            "counter",
            "Requests answered, by route pattern, method and status.",
        );
        for (route, method, series) in each_series() {
            let mut counts: Vec<(u16, u64)> = STATUSES
                .iter()
                .zip(&series.statuses)
                .map(|(status, count)| (*status, count.load(Ordering::Relaxed)))
                .filter(|(_, count)| *count > 0)
                .collect();
            if let Ok(others) = series.other_statuses.lock() {
                counts.extend(others.iter().copied());
            }
            for (status, count) in counts {
                let _ = writeln!(
                    out,
                    "http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
        }

        header(
            out,
            "http_request_duration_seconds",
            "histogram",
            "Time to answer a request, by route pattern and method.",
        );
        for (route, method, series) in each_series() {
            let snapshot = series.durations.snapshot();
            if snapshot.count > 0 {
                let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
                histogram(out, "http_request_duration_seconds", &labels, &snapshot);
            }
        }

        header(
            out,
            "http_requests_in_progress",
            "gauge",
            "Requests being answered now.",
        );
        let _ = writeln!(
            out,
            "http_requests_in_progress {}",
            registry.in_progress.load(Ordering::Relaxed)
        );
    }
}

/// Everything `/metrics` reports, wired by the server.
#[derive(Clone)]
pub struct Observability {
    /// The use cases' counters.
    pub metrics: Metrics,
    /// The requests' counters.
    pub http: HttpMetrics,
    /// The database pools.
    pub pools: Arc<dyn ConnectionPools>,
    /// The feature flags, for `feature_flag_enabled`.
    pub flags: Arc<dyn FeatureFlags>,
    /// The bearer token `/metrics` asks for; `None` leaves it open.
    pub token: Option<Secret>,
    /// The commit the binary was built from, for `build_info`.
    pub commit: &'static str,
}

impl std::fmt::Debug for Observability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observability")
            .field("token", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

/// Prometheus metrics (text format 0.0.4). Asks for `Authorization: Bearer <METRICS_TOKEN>`
/// when METRICS_TOKEN is set. Not traced.
///
/// # Errors
/// 401 when a token is configured and the request does not present it.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    security((), ("metrics_token" = [])),
    responses(
        (status = 200, description = "Every series of the instance", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 401, description = "METRICS_TOKEN is set and was not presented (ERR_AUTH_001)", body = crate::errors::Problem, content_type = "application/problem+json"),
        (status = 500, description = "Unexpected error", body = crate::errors::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn scrape(
    state: web::Data<ApiState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let observability = &state.observability;
    if let Some(token) = &observability.token {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map_or("", |(_, token)| token.trim());
        // Digests of equal length: the comparison tells nothing about the token's length.
        let presented_digest = Sha256::digest(presented.as_bytes());
        let expected_digest = Sha256::digest(token.expose().as_bytes());
        if !bool::from(presented_digest.ct_eq(&expected_digest)) {
            return Err(ApiError::Refused(if presented.is_empty() {
                Refusal::MissingToken
            } else {
                Refusal::InvalidToken
            }));
        }
    }
    let body = render(observability, state.settings.version);
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// The Prometheus text of every series.
#[must_use]
pub fn render(observability: &Observability, version: &str) -> String {
    let mut out = String::with_capacity(16 * 1024);
    observability.http.render(&mut out);
    let snapshot = observability.metrics.snapshot();

    header(
        &mut out,
        "db_query_duration_seconds",
        "histogram",
        "Time of each database statement.",
    );
    histogram(
        &mut out,
        "db_query_duration_seconds",
        "",
        &snapshot.db_queries,
    );
    header(
        &mut out,
        "db_query_errors_total",
        "counter",
        "Database statements that failed.",
    );
    let _ = writeln!(out, "db_query_errors_total {}", snapshot.db_query_errors);

    header(
        &mut out,
        "db_pool_connections",
        "gauge",
        "Database connections by pool and state (idle, in_use, max).",
    );
    for pool in observability.pools.usage() {
        for (state, value) in [
            ("idle", pool.idle),
            ("in_use", pool.in_use),
            ("max", pool.max),
        ] {
            let _ = writeln!(
                out,
                "db_pool_connections{{pool=\"{}\",state=\"{state}\"}} {value}",
                pool.pool
            );
        }
    }

    header(
        &mut out,
        "rule_execution_duration_seconds",
        "histogram",
        "Time of each companion-planting rule over one garden.",
    );
    for (rule, histogram_snapshot) in &snapshot.rules {
        histogram(
            &mut out,
            "rule_execution_duration_seconds",
            &format!("rule=\"{}\"", rule.as_str()),
            histogram_snapshot,
        );
    }

    header(
        &mut out,
        "compliance_violations_total",
        "counter",
        "Restricted crops met by the compliance check, by what was done.",
    );
    for (action, count) in &snapshot.compliance_violations {
        let _ = writeln!(
            out,
            "compliance_violations_total{{action=\"{}\"}} {count}",
            action.as_str()
        );
    }

    header(
        &mut out,
        "sms_messages_total",
        "counter",
        "SMS reaching each status.",
    );
    for (status, count) in &snapshot.sms_messages {
        let _ = writeln!(
            out,
            "sms_messages_total{{status=\"{}\"}} {count}",
            status.as_str()
        );
    }

    header(
        &mut out,
        "ai_requests_total",
        "counter",
        "Calls to the chat model, by outcome.",
    );
    for (outcome, count) in &snapshot.ai_requests {
        let _ = writeln!(
            out,
            "ai_requests_total{{outcome=\"{}\"}} {count}",
            outcome.as_str()
        );
    }

    header(
        &mut out,
        "rate_limited_total",
        "counter",
        "Requests refused by a rate-limit policy.",
    );
    for (policy, count) in &snapshot.rate_limited {
        let _ = writeln!(out, "rate_limited_total{{policy=\"{policy}\"}} {count}");
    }
    header(
        &mut out,
        "rate_limiter_redis_fallbacks_total",
        "counter",
        "Rate-limit checks that fell back to this instance's own store because Redis failed.",
    );
    let _ = writeln!(
        out,
        "rate_limiter_redis_fallbacks_total {}",
        snapshot.rate_limiter_fallbacks
    );
    header(
        &mut out,
        "redis_degraded",
        "gauge",
        "1 while the rate limiter's last call to Redis failed.",
    );
    let _ = writeln!(out, "redis_degraded {}", u8::from(snapshot.redis_degraded));

    header(
        &mut out,
        "feature_flag_enabled",
        "gauge",
        "1 when the feature flag is on in this instance.",
    );
    for flag in Flag::ALL {
        let _ = writeln!(
            out,
            "feature_flag_enabled{{flag=\"{}\"}} {}",
            flag.as_str(),
            u8::from(observability.flags.is_enabled(flag))
        );
    }

    header(
        &mut out,
        "build_info",
        "gauge",
        "The running release; always 1.",
    );
    let _ = writeln!(
        out,
        "build_info{{version=\"{}\",commit=\"{}\"}} 1",
        escape(version),
        escape(observability.commit)
    );
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, labels: &str, snapshot: &HistogramSnapshot) {
    let separator = if labels.is_empty() { "" } else { "," };
    for (bound, count) in DURATION_BUCKETS_SECONDS.iter().zip(&snapshot.cumulative) {
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{separator}le=\"{bound}\"}} {count}"
        );
    }
    let _ = writeln!(
        out,
        "{name}_bucket{{{labels}{separator}le=\"+Inf\"}} {}",
        snapshot.count
    );
    let braced = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(out, "{name}_sum{braced} {}", snapshot.sum_seconds);
    let _ = writeln!(out, "{name}_count{braced} {}", snapshot.count);
}

/// A label value as the text format writes it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_outside_the_known_ones_is_still_counted_under_its_own_code() {
        let metrics = HttpMetrics::default();
        metrics.record(&Method::GET, None, 418, Duration::from_millis(1));
        metrics.record(&Method::GET, None, 418, Duration::from_millis(1));
        let mut out = String::new();
        metrics.render(&mut out);
        assert!(
            out.contains(
                "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"418\"} 2"
            ),
            "{out}"
        );
    }

    #[test]
    fn an_unusual_method_is_counted_as_other() {
        let metrics = HttpMetrics::default();
        let method = Method::from_bytes(b"PROPFIND").expect("a valid method token");
        metrics.record(&method, None, 404, Duration::from_millis(1));
        let mut out = String::new();
        metrics.render(&mut out);
        assert!(
            out.contains("method=\"OTHER\",route=\"unmatched\",status=\"404\"} 1"),
            "{out}"
        );
    }

    #[test]
    fn the_in_progress_gauge_returns_to_zero_when_a_request_ends_or_is_dropped() {
        let metrics = HttpMetrics::default();
        let first = metrics.start();
        let second = metrics.start();
        assert_eq!(metrics.registry.in_progress.load(Ordering::Relaxed), 2);
        drop(first);
        drop(second);
        assert_eq!(metrics.registry.in_progress.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
