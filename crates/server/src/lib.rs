//! The Plant Texts server: reads the configuration, builds the adapters, checks the schema,
//! serves HTTP and shuts down gracefully. The only crate that knows every other crate.
#![forbid(unsafe_code)]

pub mod config;
pub mod doctor;
pub mod startup;
pub mod telemetry;
pub mod workers;
