//! The Plant Texts HTTP API on actix-web.
//!
//! Routes live under `/api/v2` and are grouped by capability (`ops`, `identity`, `admin`, `catalog`,
//! `plants`, ...). Every error leaves through [`errors::ApiError`], which owns the status mapping, writes the
//! RFC 9457 problem body and logs the cause once. This crate depends on the application and the
//! domain, never on infrastructure.
#![forbid(unsafe_code)]

pub mod admin;
mod app;
mod body;
pub mod catalog;
pub mod client_ip;
pub mod client_presence;
pub mod correlation;
pub mod errors;
mod fields;
pub mod gardens;
mod hex;
pub mod identity;
pub mod json_body;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod paging;
pub mod plants;
pub mod route_table;
mod state;
pub mod trace_context;
pub mod webhooks;

pub use app::build_app;
pub use state::{ApiState, HttpSettings, Lifecycle, MetricsAccess, SmsWebhooks};
