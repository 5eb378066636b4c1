//! Operations endpoints: health, liveness, readiness, Prometheus metrics, and the API
//! documentation.

pub mod docs;
pub mod health;
pub mod metrics;

/// The paths load balancers, orchestrators and Prometheus call all the time, by an instance's
/// own address: exempt from the Host check, never traced.
const PROBES_AND_SCRAPES: [&str; 5] = [
    "/health",
    "/health/live",
    "/health/ready",
    "/ready",
    "/metrics",
];

/// Whether `path` is a health probe or the metrics scrape.
#[must_use]
pub fn is_probe_or_scrape(path: &str) -> bool {
    PROBES_AND_SCRAPES.contains(&path)
}
