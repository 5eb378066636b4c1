//! Middleware applied to every request, outermost first: request metrics, security headers, the
//! request id (the request's span and its access line, [`access_log`]), `no-store` for private
//! answers, the problem-document safety net, the Host check, CORS, panic capture, the request
//! timeout, rate limiting and idempotent replay. Each receives what it needs from `build_app`
//! as explicit inputs; none reads the application state.

pub mod access_log;
pub mod allowed_hosts;
pub mod catch_panic;
pub mod cors;
pub mod idempotency;
pub mod metrics;
pub mod no_store;
pub mod problem_fallback;
pub mod rate_limit;
pub mod request_id;
pub mod security_headers;
pub mod timeout;
