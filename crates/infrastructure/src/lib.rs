//! Adapters that implement the application's ports against real systems: the database through
//! sea-orm (SQLite or PostgreSQL), Redis, cryptography, and third-party APIs.
//!
//! Driver errors are translated here, at the seam, into the ports' own error types.
#![forbid(unsafe_code)]

pub mod cache;
pub mod flags;
pub mod openai;
pub mod persistence;
pub mod ratelimit;
pub mod redis;
pub mod security;
pub mod system;
pub mod trace_context;
pub mod twilio;
