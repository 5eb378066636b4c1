//! The security headers every response carries — errors, refusals and CORS preflights included.

use actix_web::{
    Error,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    error::InternalError,
    http::header::{HeaderMap, HeaderName, HeaderValue},
    middleware::Next,
};

/// The API's content security policy: it serves data, never pages.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// HSTS for deployed environments: one year, subdomains included.
const HSTS: &str = "max-age=31536000; includeSubDomains";

const HEADERS: [(&str, &str); 6] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
    ("content-security-policy", API_CSP),
    ("cross-origin-opener-policy", "same-origin"),
];

/// Middleware: adds the security headers to every response, keeping a header a handler set
/// itself (the /docs page's own policy), and `Strict-Transport-Security` where HSTS is on.
///
/// # Errors
/// Passes inner errors on, with the headers on their responses.
pub async fn add_security_headers(
    hsts: bool,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    match next.call(req).await {
        Ok(mut response) => {
            add(response.headers_mut(), hsts);
            Ok(response.map_into_boxed_body())
        }
        Err(error) => {
            let mut response = error.error_response();
            add(response.headers_mut(), hsts);
            Err(InternalError::from_response(error, response).into())
        }
    }
}

fn add(headers: &mut HeaderMap, hsts: bool) {
    for (name, value) in HEADERS {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if hsts {
        headers.insert(
            HeaderName::from_static("strict-transport-security"),
            HeaderValue::from_static(HSTS),
        );
    }
}
