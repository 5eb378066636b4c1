//! Operational rules: how the health of the service is judged from its dependencies, and how
//! long data is kept.

mod health;
pub mod retention;

pub use health::{CheckStatus, Dependency, OverallStatus};
