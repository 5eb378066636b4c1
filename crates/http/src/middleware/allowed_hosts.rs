//! The Host check of deployed environments: a request for a host name we do not serve is refused
//! before it reaches a handler (DNS rebinding, cache poisoning through forged Host headers).

use std::rc::Rc;

use actix_web::{
    Error,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};

use crate::{
    client_ip::TrustedProxies,
    errors::{ApiError, Refusal},
};

/// The host names served and the proxies whose `X-Forwarded-Host` is believed.
#[derive(Debug, Clone)]
pub struct HostCheck {
    /// Host names served.
    pub allowed: Vec<String>,
    /// Proxies allowed to name the host the client asked for.
    pub trusted_proxies: TrustedProxies,
}

/// Middleware: answers 400 when ALLOWED_HOSTS is enforced (`check` is `Some`) and the request's
/// host is not in it.
/// Health probes are exempt: orchestrators call them by the pod's address.
///
/// # Errors
/// Passes inner errors on.
pub async fn check_host(
    check: Option<Rc<HostCheck>>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Some(check) = check
        && !is_health_probe(req.match_info().as_str())
    {
        let host = requested_host(&req, &check.trusted_proxies);
        if !is_allowed(&host, &check.allowed) {
            tracing::info!(host = %host, "request for a host this instance does not serve");
            let response = ApiError::from(Refusal::InvalidHost);
            return Ok(req.error_response(response).map_into_boxed_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// The host the client asked for: `Host` (or the HTTP/2 `:authority`). `X-Forwarded-Host` is
/// believed only from a trusted proxy — from anyone else it would let the client pick the host
/// it is checked against.
fn requested_host(req: &ServiceRequest, trusted_proxies: &TrustedProxies) -> String {
    let from_trusted_proxy = req
        .peer_addr()
        .is_some_and(|peer| trusted_proxies.contains(peer.ip()));
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(|value| {
                value
                    .split(',')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            })
    };
    if from_trusted_proxy && let Some(forwarded) = header("x-forwarded-host") {
        return forwarded;
    }
    header("host")
        .or_else(|| {
            req.uri()
                .authority()
                .map(|authority| authority.as_str().to_owned())
        })
        .unwrap_or_default()
}

fn is_health_probe(path: &str) -> bool {
    path.starts_with("/health/") || crate::ops::is_probe_or_scrape(path)
}

/// Whether `host` (with or without a port) is one of `allowed`, ignoring case.
fn is_allowed(host: &str, allowed: &[String]) -> bool {
    let name = match host.rsplit_once(':') {
        // Not an IPv6 literal's colon: `[::1]:8080` keeps its brackets.
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    allowed
        .iter()
        .any(|entry| entry.eq_ignore_ascii_case(name) || entry.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_without_port_and_case() {
        let allowed = vec!["api.example.com".to_owned(), "[::1]".to_owned()];
        assert!(is_allowed("api.example.com", &allowed));
        assert!(is_allowed("API.Example.com:443", &allowed));
        assert!(is_allowed("[::1]:8080", &allowed));
        assert!(!is_allowed("evil.example.com", &allowed));
        assert!(!is_allowed("api.example.com.evil.test", &allowed));
    }
}
