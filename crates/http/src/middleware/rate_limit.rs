//! The rate-limit policies of the API, applied before any handler: keyed by the authenticated
//! user, else the client's address; login and registration also per (address, tenant, email).
//! Every limited response reports the tightest policy in the IETF draft headers and GitHub's
//! `X-RateLimit-*`; a refusal is 429 with `Retry-After`.

use actix_web::{
    Error,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Method,
        header::{HeaderMap, HeaderName, HeaderValue},
    },
    middleware::Next,
    web,
};
use application::ratelimit::{Check, PolicyOutcome};
use domain::ratelimit::Policy;

use super::body::peek_body;
use crate::{ApiState, errors::ApiError, identity::extractors::bearer_token};

/// Middleware: checks the policies that apply to the request.
///
/// # Errors
/// Passes inner errors on.
pub async fn limit_rate(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(state) = req.app_data::<web::Data<ApiState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let Some(limiter) = &state.rate_limiter else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let checks = checks_for(&mut req, &state).await;
    let Some(verdict) = limiter.check(&checks).await else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    if !verdict.allowed {
        let error = ApiError::RateLimited {
            policy: verdict.reported.policy.name,
            retry_after_secs: u64::try_from(verdict.reported.status.retry_after_secs())
                .unwrap_or(1),
        };
        let mut response = req.error_response(error);
        write_headers(response.headers_mut(), &verdict.reported);
        return Ok(response.map_into_boxed_body());
    }
    let mut response = next.call(req).await?.map_into_boxed_body();
    write_headers(response.headers_mut(), &verdict.reported);
    Ok(response)
}

/// The policies for this request, most specific first.
async fn checks_for(req: &mut ServiceRequest, state: &ApiState) -> Vec<Check> {
    let path = req.path().to_owned();
    let health = path == "/health" || path.starts_with("/health/") || path == "/ready";
    if !health && !path.starts_with("/api/v2/") {
        return Vec::new();
    }
    let ip = state
        .settings
        .trusted_proxies
        .client_ip(
            req.peer_addr().map(|peer| peer.ip()),
            req.headers()
                .get("x-forwarded-for")
                .and_then(|value| value.to_str().ok()),
        )
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let by_ip = |policy: Policy| Check {
        policy,
        key: format!("ip:{ip}"),
    };
    if health {
        return vec![by_ip(Policy::HEALTH)];
    }
    let subject = bearer_token(req.request())
        .and_then(|token| state.identity.token_subject(&token))
        .map_or_else(|| format!("ip:{ip}"), |user| format!("user:{user}"));
    let by_subject = |policy: Policy| Check {
        policy,
        key: subject.clone(),
    };
    let post = req.method() == Method::POST;
    let mut checks = Vec::new();
    if post && (path == "/api/v2/auth/login" || path == "/api/v2/auth/register") {
        let (tenant, email) = login_name(req).await;
        checks.push(Check {
            policy: Policy::LOGIN,
            key: format!("ip:{ip}:tenant:{tenant}:email:{email}"),
        });
        checks.push(by_ip(Policy::LOGIN_IP));
    } else if path.starts_with("/api/v2/webhooks/") {
        checks.push(by_ip(Policy::WEBHOOK));
    } else if post && path == "/api/v2/plants" {
        checks.push(by_subject(Policy::PLANTS_CREATE));
    } else if post && path.starts_with("/api/v2/plants/") && path.ends_with("/chat") {
        checks.push(by_subject(Policy::CHAT));
    }
    checks.push(by_subject(Policy::API));
    checks.push(by_subject(Policy::GLOBAL));
    checks
}

/// The tenant and email a login or registration names, read from the body — which is put back
/// for the handler. Unreadable bodies count under empty names (the handler refuses them anyway).
async fn login_name(req: &mut ServiceRequest) -> (String, String) {
    let Ok(body) = peek_body(req).await else {
        return (String::new(), String::new());
    };
    serde_json::from_slice::<serde_json::Value>(&body)
        .map(|document| {
            let field = |name: &str| {
                document[name]
                    .as_str()
                    .unwrap_or_default()
                    .trim()
                    .to_lowercase()
            };
            (field("tenant"), field("email"))
        })
        .unwrap_or_default()
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
