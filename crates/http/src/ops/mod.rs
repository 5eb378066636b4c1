//! Operations endpoints: health, liveness, readiness, and the API documentation.

pub mod docs;
pub mod health;
