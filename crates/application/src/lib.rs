//! Plant Texts use cases and the ports they need.
//!
//! Each capability is a module (`ops`, `identity`, later `plants`, ...) holding its use cases and
//! the small traits — ports — through which they reach the outside world. Adapters in the
//! infrastructure crate implement the ports; the http crate calls the use cases. Nothing here knows
//! about sea-orm, actix or reqwest.
#![forbid(unsafe_code)]

pub mod admin;
pub mod catalog;
pub mod chat;
pub mod client;
pub mod compose;
pub mod failure;
pub mod flags;
pub mod gardens;
pub mod idempotency;
pub mod identity;
pub mod metrics;
pub mod ops;
pub mod paging;
pub mod plants;
pub mod ratelimit;
pub mod sms;
pub mod store;
pub mod system;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod unit_of_work;
