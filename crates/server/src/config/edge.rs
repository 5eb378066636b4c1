//! What the HTTP edge accepts: CORS_ORIGINS, ALLOWED_HOSTS, TRUSTED_PROXIES, RATE_LIMIT_ENABLED,
//! MAX_BODY_BYTES, REQUEST_TIMEOUT_SECS and the shutdown timings.

use std::time::Duration;

use super::{
    parse::{Reader, is_cidr, is_origin},
    settings::{Environment, secs},
};

/// Who may call, how much and for how long, and how the listener closes.
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    /// Exact allowed CORS origins.
    pub cors_origins: Vec<String>,
    /// Accepted `Host` values (staging/production).
    pub allowed_hosts: Vec<String>,
    /// CIDRs whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// Whether rate limits apply.
    pub rate_limit_enabled: bool,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Per-request time limit.
    pub request_timeout: Duration,
    /// Time given to in-flight requests at shutdown.
    pub shutdown_timeout: Duration,
    /// Time readiness answers 503 after SIGTERM while the listener still serves, so that a load
    /// balancer stops sending before the port closes.
    pub shutdown_grace: Duration,
}

impl EdgeSettings {
    pub(super) fn read(r: &mut Reader, environment: Environment) -> Self {
        let deployed = environment.is_deployed();
        let cors_origins = r.list("CORS_ORIGINS");
        if cors_origins.is_empty() && deployed {
            r.problem(
                "CORS_ORIGINS",
                format!("is required in {}", environment.as_str()),
            );
        }
        if cors_origins.iter().any(|o| o == "*") {
            if environment != Environment::Development {
                r.problem("CORS_ORIGINS", "`*` is allowed only in development");
            }
        } else if cors_origins.iter().any(|o| !is_origin(o)) {
            r.problem(
                "CORS_ORIGINS",
                "every origin must be scheme://host[:port] without a path",
            );
        }
        let allowed_hosts = r.list("ALLOWED_HOSTS");
        if allowed_hosts.is_empty() && deployed {
            r.problem(
                "ALLOWED_HOSTS",
                format!("is required in {}", environment.as_str()),
            );
        }
        let trusted_proxies = r.list("TRUSTED_PROXIES");
        if trusted_proxies.iter().any(|cidr| !is_cidr(cidr)) {
            r.problem(
                "TRUSTED_PROXIES",
                "every entry must be an IP address or CIDR such as 10.0.0.0/8",
            );
        }
        Self {
            cors_origins,
            allowed_hosts,
            trusted_proxies,
            rate_limit_enabled: r.boolean("RATE_LIMIT_ENABLED", true),
            max_body_bytes: r.number("MAX_BODY_BYTES", 65_536_usize, 1024, 10 * 1024 * 1024),
            request_timeout: secs(r.number("REQUEST_TIMEOUT_SECS", 30, 1, 600)),
            shutdown_timeout: secs(r.number("SHUTDOWN_TIMEOUT_SECS", 30, 1, 600)),
            shutdown_grace: secs(r.number(
                "SHUTDOWN_GRACE_SECS",
                if deployed { 5 } else { 0 },
                0,
                120,
            )),
        }
    }
}
