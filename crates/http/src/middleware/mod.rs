//! Middleware applied to every request, outermost first: request metrics, security headers, CORS, request id
//! (with the request's span, its log line and the problem safety net), the Host check, panic
//! capture, rate limiting, idempotent replay and the request timeout.

pub mod allowed_hosts;
mod body;
pub mod catch_panic;
pub mod client_ip;
pub mod cors;
pub mod idempotency;
pub mod metrics;
pub mod rate_limit;
pub mod request_id;
pub mod security_headers;
pub mod timeout;
