//! The Plant Texts domain: pure types and rules, free of I/O, async runtimes, ORMs and web types.
//!
//! Code is grouped by capability (`catalog`, `ops`, ...); every value that crosses into the domain
//! is parsed once by a fallible constructor and trusted afterwards.
#![forbid(unsafe_code)]

pub mod catalog;
pub mod chat;
pub mod gardens;
pub mod identity;
mod ids;
pub mod ops;
pub mod phone;
pub mod plants;
pub mod ratelimit;
pub mod secret;
pub mod sms;
mod text;
mod wire;
