//! CORS exactly as configured: our origins may call with credentials and read our headers; any
//! other origin gets no CORS header at all.

use actix_cors::Cors;
use actix_web::{
    Error,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
};

/// Headers a browser may read from our responses.
const EXPOSED_HEADERS: [&str; 7] = [
    "x-request-id",
    "ratelimit-policy",
    "ratelimit",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
];

/// The CORS middleware for `origins` exactly (`*`, accepted in development only, echoes any origin): with
/// credentials, our methods and headers, a day of preflight caching. Another origin gets no CORS
/// headers at all and the browser keeps the response from the page.
pub fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers(EXPOSED_HEADERS)
        .supports_credentials()
        .max_age(86_400)
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

/// Middleware (outside [`cors`]): a response without `Access-Control-Allow-Origin` — for an
/// origin that is not allowed — loses the other CORS headers the CORS middleware adds anyway.
///
/// # Errors
/// Passes inner errors on.
pub async fn withhold_cors_from_other_origins(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        let cors_headers: Vec<_> = headers
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in cors_headers {
            headers.remove(name);
        }
    }
    Ok(response.map_into_boxed_body())
}
