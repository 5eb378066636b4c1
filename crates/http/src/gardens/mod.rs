//! The caller's gardens, their plantings and events, analysis, layout, and the tenant's
//! compliance audit.

pub mod compliance;
pub mod documents;
pub mod plantings;
pub mod routes;
