//! Identity routes: `/api/v2/auth/*` and `/api/v2/me`, and the extractors that say who calls.

pub mod auth;
pub mod documents;
mod export_stream;
pub mod extractors;
pub mod me;
pub mod phone;
