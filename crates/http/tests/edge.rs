//! The edge of the API: security headers on every response, CORS for exact origins, the Host
//! check of deployed environments and the request timeout.

mod support;

use actix_web::{
    HttpResponse,
    dev::{Service, ServiceResponse},
    http::{StatusCode, header},
    test, web,
};
use plant_texts_http::{ApiState, build_app};

const ALLOWED_ORIGIN: &str = "https://app.example.com";

async fn explode() -> HttpResponse {
    panic!("boom");
}

async fn never_answers() -> HttpResponse {
    std::future::pending::<()>().await;
    HttpResponse::Ok().finish()
}

fn extra_routes(config: &mut web::ServiceConfig) {
    config
        .route("/test/panic", web::get().to(explode))
        .route("/test/stuck", web::get().to(never_answers));
}

async fn state_with(edit: impl FnOnce(&mut ApiState)) -> ApiState {
    let mut state = support::state(false, &[], true).await;
    edit(&mut state);
    state
}

/// Sends `request` through the real middleware; an error that left it carries its response.
async fn send(state: ApiState, request: test::TestRequest) -> ServiceResponse {
    let app = test::init_service(build_app(state, extra_routes)).await;
    match app.call(request.to_request()).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => ServiceResponse::new(
            test::TestRequest::default().to_http_request(),
            error.error_response(),
        ),
    }
}

fn header<'a>(response: &'a ServiceResponse, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn assert_security_headers(response: &ServiceResponse) {
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=()",
        ),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        assert_eq!(
            header(response, name),
            Some(value),
            "{name} on {}",
            response.status()
        );
    }
}

#[actix_web::test]
async fn every_response_carries_the_security_headers_errors_included() {
    for (path, status) in [
        ("/health/live", StatusCode::OK),
        ("/api/v2/nowhere", StatusCode::NOT_FOUND),
        ("/api/v2/plants", StatusCode::UNAUTHORIZED),
        ("/test/panic", StatusCode::INTERNAL_SERVER_ERROR),
        ("/api/v2/auth/login", StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        let request = if path == "/api/v2/auth/login" {
            // Over the 1 KiB limit of the test state.
            test::TestRequest::post()
                .uri(path)
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .set_payload(format!("{{\"email\": \"{}\"}}", "a".repeat(2048)))
        } else {
            test::TestRequest::get().uri(path)
        };
        let response = send(state_with(|_| {}).await, request).await;
        assert_eq!(response.status(), status, "{path}");
        assert_security_headers(&response);
        assert_eq!(header(&response, "strict-transport-security"), None);
    }
}

#[actix_web::test]
async fn hsts_is_sent_where_it_is_switched_on() {
    let state = state_with(|state| state.settings.hsts = true).await;
    let response = send(state, test::TestRequest::get().uri("/api/v2/nowhere")).await;
    assert_eq!(
        header(&response, "strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );
}

#[actix_web::test]
async fn the_docs_page_has_its_own_minimal_policy() {
    let response = send(
        state_with(|_| {}).await,
        test::TestRequest::get().uri("/docs"),
    )
    .await;
    let policy = header(&response, "content-security-policy").unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-eval"), "{policy}");
    assert_eq!(header(&response, "x-frame-options"), Some("DENY"));
}

async fn cors_state() -> ApiState {
    state_with(|state| state.settings.cors_origins = vec![ALLOWED_ORIGIN.to_owned()]).await
}

fn preflight(origin: &str) -> test::TestRequest {
    test::TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/api/v2/plants")
        .insert_header((header::ORIGIN, origin))
        .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
        .insert_header((
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization, content-type, idempotency-key",
        ))
}

#[actix_web::test]
async fn an_allowed_origin_gets_a_cached_preflight_with_credentials() {
    let response = send(cors_state().await, preflight(ALLOWED_ORIGIN)).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
    assert_eq!(
        header(&response, "access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(header(&response, "access-control-max-age"), Some("86400"));
    assert!(
        header(&response, "x-request-id").is_some(),
        "a preflight carries X-Request-ID"
    );
    let methods = header(&response, "access-control-allow-methods").unwrap();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        assert!(methods.contains(method), "{method} in {methods}");
    }
    let headers = header(&response, "access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    for name in [
        "authorization",
        "content-type",
        "x-request-id",
        "idempotency-key",
    ] {
        assert!(headers.contains(name), "{name} in {headers}");
    }
    assert_security_headers(&response);
}

#[actix_web::test]
async fn a_preflight_to_a_host_not_served_here_is_refused() {
    let state = state_with(|state| {
        state.settings.cors_origins = vec![ALLOWED_ORIGIN.to_owned()];
        state.settings.allowed_hosts = Some(vec!["api.example.com".to_owned()]);
    })
    .await;
    let response = send(
        state,
        preflight(ALLOWED_ORIGIN).insert_header((header::HOST, "attacker.example.net")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(header(&response, "access-control-allow-origin").is_none());
    assert!(header(&response, "x-request-id").is_some());
}

#[actix_web::test]
async fn an_allowed_origin_may_read_the_response_and_its_headers() {
    let request = test::TestRequest::get()
        .uri("/health/live")
        .insert_header((header::ORIGIN, ALLOWED_ORIGIN));
    let response = send(cors_state().await, request).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
    let exposed = header(&response, "access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    for name in [
        "x-request-id",
        "ratelimit-policy",
        "ratelimit",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
    ] {
        assert!(
            exposed.split(", ").any(|h| h == name),
            "{name} in {exposed}"
        );
    }
}

#[actix_web::test]
async fn a_disallowed_origin_gets_no_cors_headers() {
    let preflight_response = send(cors_state().await, preflight("https://evil.example.com")).await;
    let request = test::TestRequest::get()
        .uri("/health/live")
        .insert_header((header::ORIGIN, "https://evil.example.com"));
    let actual = send(cors_state().await, request).await;

    for response in [&preflight_response, &actual] {
        assert!(
            !response
                .headers()
                .keys()
                .any(|name| name.as_str().starts_with("access-control-")),
            "{:?}",
            response.headers()
        );
        assert_security_headers(response);
    }
    assert_eq!(
        actual.status(),
        StatusCode::OK,
        "the browser, not the server, withholds it"
    );
}

#[actix_web::test]
async fn a_host_that_is_not_served_is_refused_where_hosts_are_enforced() {
    let enforced = || {
        state_with(|state| state.settings.allowed_hosts = Some(vec!["api.example.com".to_owned()]))
    };
    let foreign = send(
        enforced().await,
        test::TestRequest::get()
            .uri("/api/v2/catalog")
            .insert_header((header::HOST, "evil.example.com")),
    )
    .await;
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = serde_json::from_slice(&test::read_body(foreign).await).unwrap();
    assert_eq!(body["code"], "ERR_REQUEST_004");

    let ours = send(
        enforced().await,
        test::TestRequest::get()
            .uri("/api/v2/catalog")
            .insert_header((header::HOST, "API.example.com:443")),
    )
    .await;
    assert_eq!(ours.status(), StatusCode::OK);
    let probe = send(
        enforced().await,
        test::TestRequest::get()
            .uri("/health/live")
            .insert_header((header::HOST, "10.1.2.3:8000")),
    )
    .await;
    assert_eq!(probe.status(), StatusCode::OK, "probes come by address");
    let unenforced = send(
        state_with(|_| {}).await,
        test::TestRequest::get()
            .uri("/api/v2/catalog")
            .insert_header((header::HOST, "evil.example.com")),
    )
    .await;
    assert_eq!(unenforced.status(), StatusCode::OK);
}

#[actix_web::test]
async fn forwarded_host_headers_count_only_from_trusted_proxies() {
    let enforced = || {
        state_with(|state| {
            state.settings.allowed_hosts = Some(vec!["api.example.com".to_owned()]);
            state.settings.trusted_proxies =
                plant_texts_http::client_ip::TrustedProxies::parse(&["10.0.0.0/8".to_owned()]);
        })
    };
    let request = |peer: &str, host: &str, forwarded: &[(&str, &str)]| {
        let mut request = test::TestRequest::get()
            .uri("/api/v2/catalog")
            .peer_addr(peer.parse().unwrap())
            .insert_header((header::HOST, host.to_owned()));
        for (name, value) in forwarded {
            request = request.insert_header(((*name).to_owned(), (*value).to_owned()));
        }
        request
    };

    for forged in [
        ("x-forwarded-host", "api.example.com"),
        ("forwarded", "host=api.example.com"),
    ] {
        let from_a_client = send(
            enforced().await,
            request("203.0.113.9:1", "evil.example.com", &[forged]),
        )
        .await;
        assert_eq!(
            from_a_client.status(),
            StatusCode::BAD_REQUEST,
            "{} from a client is not believed",
            forged.0
        );
    }
    let via_proxy = send(
        enforced().await,
        request(
            "10.0.0.7:1",
            "internal-lb:8080",
            &[("x-forwarded-host", "api.example.com")],
        ),
    )
    .await;
    assert_eq!(
        via_proxy.status(),
        StatusCode::OK,
        "a trusted proxy names the host"
    );
    let proxy_forwarding_evil = send(
        enforced().await,
        request(
            "10.0.0.7:1",
            "api.example.com",
            &[("x-forwarded-host", "evil.example.com")],
        ),
    )
    .await;
    assert_eq!(proxy_forwarding_evil.status(), StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn a_request_over_the_timeout_is_answered_503_with_a_problem() {
    let state =
        state_with(|state| state.settings.request_timeout = std::time::Duration::from_millis(50))
            .await;
    let response = send(state, test::TestRequest::get().uri("/test/stuck")).await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_security_headers(&response);
    assert!(header(&response, "x-request-id").is_some());
    let body: serde_json::Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
    assert_eq!(body["code"], "ERR_UNAVAILABLE_002");
    assert_eq!(body["status"], 503);
}

#[actix_web::test]
async fn probes_and_scrapes_by_the_instance_address_pass_the_host_check_and_the_api_does_not() {
    let state = state_with(|state| {
        state.settings.allowed_hosts = Some(vec!["api.example.com".to_owned()]);
    })
    .await;
    for path in ["/health/live", "/ready", "/metrics"] {
        let request = test::TestRequest::get()
            .uri(path)
            .insert_header((header::HOST, "10.0.0.7:8080"));
        let response = send(state.clone(), request).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let request = test::TestRequest::get()
        .uri("/api/v2/catalog")
        .insert_header((header::HOST, "10.0.0.7:8080"));
    assert_eq!(send(state, request).await.status(), StatusCode::BAD_REQUEST);
}

/// A rate-limit store that never answers, as a Redis stuck mid-command would.
struct StuckStore;

#[async_trait::async_trait]
impl application::ratelimit::RateLimitStore for StuckStore {
    async fn admit_all(
        &self,
        _cells: &[application::ratelimit::Cell<'_>],
        _now_ms: i64,
    ) -> Result<Vec<domain::ratelimit::Admission>, application::ratelimit::LimiterUnavailable> {
        std::future::pending().await
    }

    async fn refund(
        &self,
        _cells: &[application::ratelimit::Cell<'_>],
        _now_ms: i64,
    ) -> Result<(), application::ratelimit::LimiterUnavailable> {
        std::future::pending().await
    }
}

#[actix_web::test]
async fn a_stuck_rate_limit_store_is_answered_503_within_the_request_timeout() {
    let state = state_with(|state| {
        state.settings.request_timeout = std::time::Duration::from_millis(50);
        state.rate_limiter = Some(application::ratelimit::RateLimiter::new(
            Some(std::sync::Arc::new(StuckStore)),
            std::sync::Arc::new(StuckStore),
            std::sync::Arc::new(infrastructure::system::SystemClock),
        ));
    })
    .await;
    // A hang guard, not a measurement: without the timeout around the limiter the request
    // would never be answered.
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        send(state, test::TestRequest::get().uri("/api/v2/catalog")),
    )
    .await
    .expect("the request is answered");

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(header(&response, "x-request-id").is_some());
    let body: serde_json::Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
    assert_eq!(body["code"], "ERR_UNAVAILABLE_002");
}

#[actix_web::test]
async fn a_rebuilt_problem_body_for_an_authenticated_caller_keeps_no_store() {
    let app = test::init_service(build_app(
        support::state(false, &[], true).await,
        extra_routes,
    ))
    .await;
    let password = "sunflower meadow at dawn";
    let registered = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/api/v2/auth/register")
            .set_json(serde_json::json!({"tenant": "demo", "email": "ada@example.com", "password": password, "full_name": "Ada"}))
            .to_request(),
    )
    .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let login = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/api/v2/auth/login")
            .set_json(serde_json::json!({"tenant": "demo", "email": "ada@example.com", "password": password}))
            .to_request(),
    )
    .await;
    let login: serde_json::Value = serde_json::from_slice(&test::read_body(login).await).unwrap();
    let token = login["access_token"].as_str().unwrap();

    // The idempotency middleware authenticates the caller, then reading the oversized body
    // fails in actix, whose plain-text 413 the problem safety net replaces.
    let oversized = format!("{{\"nickname\": \"{}\"}}", "x".repeat(4096));
    let response = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/api/v2/plants")
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Idempotency-Key", "oversized-1"))
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(oversized)
            .to_request(),
    )
    .await
    .map_into_boxed_body();

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    assert!(
        header(&response, "content-type")
            .is_some_and(|t| t.starts_with("application/problem+json")),
        "{:?}",
        response.headers()
    );
}
