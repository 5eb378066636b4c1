//! The rate-limit policies of the API, applied before any handler. Which policies apply is read
//! from the route table for the route the router will pick (`route_table::resolve` on the
//! decoded path), so no spelling of a path escapes its route's limits. Keys: the authenticated
//! user, else the client's address (IPv6 by its /64); login and registration also per address
//! and account (a hash of tenant and email, formed only when both parse), and failed logins per
//! account from every address. Every limited response reports the tightest policy in the IETF
//! draft headers and GitHub's `X-RateLimit-*`; a refusal is 429 with `Retry-After`.

use std::{net::IpAddr, rc::Rc};

use actix_web::{
    Error,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        StatusCode,
        header::{HeaderMap, HeaderName, HeaderValue},
    },
    middleware::Next,
};
use application::{
    identity::Identity,
    ratelimit::{Check, PolicyOutcome, RateLimiter},
};
use domain::{
    identity::{Email, TenantSlug},
    ratelimit::Policy,
};
use sha2::{Digest as _, Sha256};

use crate::{
    ApiState,
    body::peek_body,
    client_ip::TrustedProxies,
    errors::ApiError,
    hex::hex,
    identity::extractors::bearer_token,
    route_table::{self, Resolution},
};

/// The policies of a request that matches no route: every request counts somewhere.
const UNROUTED: &[Policy] = &[Policy::GLOBAL, Policy::API];

/// What rate limiting needs: the limiter, the token service to key a caller by account, and the
/// proxies whose `X-Forwarded-For` names the client.
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// The limiter and its stores.
    pub limiter: RateLimiter,
    /// Reads the subject of a bearer token (without a database query).
    pub identity: Identity,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
}

/// Middleware: checks the policies that apply to the request; passes every request when
/// rate limiting is off (`limits` is `None`).
///
/// # Errors
/// Passes inner errors on.
pub async fn limit_rate(
    limits: Option<Rc<RateLimits>>,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(limits) = limits else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let limiter = &limits.limiter;
    let (checks, refunded_unless_refused) = checks_for(&mut req, &limits).await;
    let Some(verdict) = limiter.check(&checks).await else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    if !verdict.allowed {
        let mut response = req.error_response(refusal(&verdict.reported));
        write_headers(response.headers_mut(), &verdict.reported);
        return Ok(response.map_into_boxed_body());
    }
    let mut response = next.call(req).await?.map_into_boxed_body();
    if response.status() != StatusCode::UNAUTHORIZED && !refunded_unless_refused.is_empty() {
        limiter.refund(&refunded_unless_refused).await;
    }
    write_headers(response.headers_mut(), &verdict.reported);
    Ok(response)
}

/// The checks for this request, coarse before fine, and those to refund unless it fails with
/// 401 (`login_account` counts failed logins only, but is charged up front, inside the same
/// atomic admission, so that concurrent guesses cannot all pass a nearly full key).
async fn checks_for(req: &mut ServiceRequest, limits: &RateLimits) -> (Vec<Check>, Vec<Check>) {
    let policies = match route_table::route_of(req) {
        Resolution::Route(route) => route.policies,
        Resolution::WrongMethod(_) | Resolution::Unknown => UNROUTED,
    };
    let ip = limits.trusted_proxies.client_ip(
        req.peer_addr().map(|peer| peer.ip()),
        req.headers()
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok()),
    );
    let address = address_key(ip);
    let subject = bearer_token(req.request())
        .and_then(|token| limits.identity.token_subject(&token))
        .map_or_else(|| address.clone(), |user| format!("user:{user}"));
    let account = if policies.contains(&Policy::LOGIN) {
        account_key(req).await
    } else {
        None
    };
    let mut checks = Vec::new();
    let mut refunded_unless_refused = Vec::new();
    for policy in policies {
        let check = match *policy {
            Policy::GLOBAL
            | Policy::API
            | Policy::CHAT
            | Policy::PLANTS_CREATE
            | Policy::PHONE_CODE => Check::counted(*policy, subject.clone()),
            Policy::LOGIN => match &account {
                Some(account) => Check::counted(*policy, format!("{address}:{account}")),
                // No account to count: the handler refuses the request anyway.
                None => continue,
            },
            // Keyed by the sender's number, known only once the signature is checked: the
            // webhook handlers apply it (`webhooks::twilio`).
            Policy::WEBHOOK => continue,
            Policy::LOGIN_ACCOUNT => match &account {
                Some(account) => {
                    refunded_unless_refused.push(Check::counted(*policy, account.clone()));
                    Check::counted(*policy, account.clone())
                }
                None => continue,
            },
            _ => Check::counted(*policy, address.clone()),
        };
        checks.push(check);
    }
    (checks, refunded_unless_refused)
}

/// The key of a client address: IPv4 as it is, IPv6 by its /64 (one customer's allocation, so
/// walking the addresses of one network gains nothing).
fn address_key(ip: Option<IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(ip)) => format!("ip:{ip}"),
        Some(IpAddr::V6(ip)) => {
            let network = u128::from(ip) & (u128::MAX << 64);
            format!("ip6:{}/64", std::net::Ipv6Addr::from(network))
        }
        None => "ip:unknown".to_owned(),
    }
}

/// The names of a login or registration body, read exactly as the handlers' documents read them
/// (derived serde, unknown fields skipped): any body a handler accepts is read the same here, so
/// no extra field or encoding trick makes a login that reaches an account skip its limits.
#[derive(serde::Deserialize)]
struct AccountName {
    tenant: Option<String>,
    email: Option<String>,
}

/// The account a login or registration names: a hash of the normalised tenant and email, read
/// from the body — which is put back for the handler. `None` when the body is unreadable or
/// either name does not parse: such a request names no account (the handler refuses it or
/// finds no account), and forms no key.
async fn account_key(req: &mut ServiceRequest) -> Option<String> {
    let body = peek_body(req).await.ok()?;
    let names = serde_json::from_slice::<AccountName>(&body).ok()?;
    let tenant = TenantSlug::parse(names.tenant.as_deref()?).ok()?;
    let email = Email::parse(names.email.as_deref()?).ok()?;
    Some(hashed_key("account", &[tenant.as_str(), email.as_str()]))
}

/// A key naming `parts` without revealing them (no email or phone number is written to the
/// rate-limit store): `kind:` and the first 16 bytes of a SHA-256 over the parts.
fn hashed_key(kind: &str, parts: &[&str]) -> String {
    let mut digest = Sha256::new();
    for (n, part) in parts.iter().enumerate() {
        if n > 0 {
            digest.update([0]);
        }
        digest.update(part.as_bytes());
    }
    format!("{kind}:{}", hex(&digest.finalize()[..16]))
}

/// The 429 for a refusing policy.
fn refusal(outcome: &PolicyOutcome) -> ApiError {
    ApiError::RateLimited {
        policy: outcome.policy.name,
        retry_after_secs: u64::try_from(outcome.status.retry_after_secs()).unwrap_or(1),
    }
}

/// The `webhook` policy for one number (the sender of a text, the recipient of a delivery
/// report), for the webhook handlers to apply once the signature showed the request is
/// Twilio's.
///
/// # Errors
/// The 429 when the number has sent its quota.
pub(crate) async fn limit_webhook_number(state: &ApiState, number: &str) -> Result<(), ApiError> {
    let Some(limiter) = &state.rate_limiter else {
        return Ok(());
    };
    let check = Check::counted(Policy::WEBHOOK, hashed_key("number", &[number]));
    match limiter.check(&[check]).await {
        Some(verdict) if !verdict.allowed => Err(refusal(&verdict.reported)),
        _ => Ok(()),
    }
}

fn write_headers(headers: &mut HeaderMap, outcome: &PolicyOutcome) {
    let remaining = outcome.status.remaining;
    let values = [
        ("ratelimit-policy", outcome.policy.header_value()),
        (
            "ratelimit",
            format!(
                "\"{}\";r={remaining};t={}",
                outcome.policy.name,
                outcome.status.reset_secs()
            ),
        ),
        ("x-ratelimit-limit", outcome.policy.quota.limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", outcome.reset_at_secs.to_string()),
    ];
    for (name, value) in values {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}
