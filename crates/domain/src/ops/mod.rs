//! Operational rules: how the health of the service is judged from its dependencies.

mod health;

pub use health::{CheckStatus, Dependency, OverallStatus};
