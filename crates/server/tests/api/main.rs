//! Tests of the whole server: the real actix app on a random port, real SQLite and PostgreSQL
//! databases, a real Redis. One binary, so that it links once.
//!
//! PostgreSQL and Redis come from TEST_DATABASE_URL and TEST_REDIS_URL, which `cargo xtask test`
//! sets (starting throwaway servers when needed).

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "set-up code of the tests fails the test loudly"
)]

mod helpers;

mod account_standings;
mod admin;
mod auth;
mod binary;
mod catalog;
mod chat;
mod database_pool;
mod deploy;
mod docs_page;
mod errors;
mod gardens;
mod hardening;
mod health;
mod idempotency;
mod layering;
mod me;
mod metrics;
mod migrations;
mod outbox;
mod phone;
mod plants;
mod promtool;
mod rate_limits;
mod redis;
mod request_id;
mod retention;
mod schema_check;
mod security;
mod sms;
mod sms_workers;
