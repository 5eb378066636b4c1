//! Counts every request into `http_requests_total`, `http_request_duration_seconds` and
//! `http_requests_in_progress`, labelled by the route pattern the router picks, never the raw
//! path (which would give every plant id a series of its own).

use std::time::Instant;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};

use crate::ops::metrics::HttpMetrics;

/// Middleware: counts the request once it is answered (or fails, or is dropped).
///
/// # Errors
/// Passes inner errors on, counted with the status their response will have.
pub async fn count_request<B: MessageBody + 'static>(
    metrics: HttpMetrics,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    let _in_progress = metrics.start();
    let started = Instant::now();
    let method = req.method().clone();
    let outcome = next.call(req).await;
    let (status, route) = match &outcome {
        // The router names the resource it picked after its pattern (route_table::configure).
        Ok(response) => (response.status().as_u16(), response.request().match_name()),
        Err(error) => (error.as_response_error().status_code().as_u16(), None),
    };
    metrics.record(&method, route, status, started.elapsed());
    outcome
}
