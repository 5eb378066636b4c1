//! Operations endpoints: health, liveness, readiness, Prometheus metrics, and the API
//! documentation.

pub mod docs;
pub mod health;
pub mod metrics;
