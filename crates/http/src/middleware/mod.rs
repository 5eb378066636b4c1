//! Middleware applied to every request, outermost first: request id (with the request's span,
//! its log line and the problem safety net), then panic capture.

pub mod catch_panic;
pub mod request_id;
