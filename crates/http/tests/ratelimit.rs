//! The rate-limit policies through the real middleware, on a clock the tests move: each policy's
//! quota and window, the headers, Retry-After, the keys (user, address, login name) and
//! X-Forwarded-For from trusted and untrusted peers.

#![expect(
    clippy::unwrap_used,
    reason = "the test clock and fixtures fail the test loudly"
)]

mod support;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use actix_web::{
    dev::{Service, ServiceResponse},
    http::{Method, StatusCode},
    test,
};
use application::{ratelimit::RateLimiter, system::Clock};
use chrono::{DateTime, TimeDelta, Utc};
use infrastructure::ratelimit::InProcessRateLimitStore;
use plant_texts_http::{ApiState, build_app, client_ip::TrustedProxies};
use serde_json::{Value, json};

#[derive(Debug)]
struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn advance(&self, by: TimeDelta) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

async fn limited_state() -> (ApiState, Arc<TestClock>) {
    let (state, clock, _store) = limited_state_and_store().await;
    (state, clock)
}

/// A state limited by an in-process store the test can look into.
async fn limited_state_and_store() -> (ApiState, Arc<TestClock>, Arc<InProcessRateLimitStore>) {
    let clock = Arc::new(TestClock(Mutex::new(
        DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
            .unwrap()
            .to_utc(),
    )));
    let store = Arc::new(InProcessRateLimitStore::new());
    let mut state = support::state(false, &[], true).await;
    state.rate_limiter = Some(RateLimiter::new(None, store.clone(), clock.clone()));
    state.settings.trusted_proxies = TrustedProxies::parse(&["10.0.0.0/8".to_owned()]);
    (state, clock, store)
}

macro_rules! app {
    ($state:expr) => {
        test::init_service(build_app($state, |_| {})).await
    };
}

async fn call(
    app: &impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl actix_web::body::MessageBody + 'static>,
        Error = actix_web::Error,
    >,
    request: test::TestRequest,
) -> ServiceResponse {
    match app.call(request.to_request()).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => ServiceResponse::new(
            test::TestRequest::default().to_http_request(),
            error.error_response(),
        ),
    }
}

fn header(response: &ServiceResponse, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn from(peer: &str, request: test::TestRequest) -> test::TestRequest {
    request.peer_addr(peer.parse::<SocketAddr>().unwrap())
}

/// One request of each policy's kind.
fn request_for(policy: &str, n: usize) -> test::TestRequest {
    let post = |path: &str| test::TestRequest::default().method(Method::POST).uri(path);
    let request = match policy {
        "health" => test::TestRequest::get().uri("/health/live"),
        "api" | "global" => test::TestRequest::get().uri("/api/v2/nowhere"),
        "plants_create" => post("/api/v2/plants").set_json(json!({})),
        "chat" => post("/api/v2/plants/01890a5d-ac96-774b-bcce-b302099a8057/chat")
            .set_json(json!({"message": "hi"})),
        "login" => post("/api/v2/auth/login").set_json(
            json!({"tenant": "demo", "email": "Ada@Example.com", "password": "not the password"}),
        ),
        // A different email each time: only the per-address policy adds up.
        "login_ip" => post("/api/v2/auth/login").set_json(
            json!({"tenant": "demo", "email": format!("user{n}@example.com"), "password": "x"}),
        ),
        other => panic!("no request for {other}"),
    };
    from("198.51.100.10:5000", request)
}

#[actix_web::test]
async fn each_policy_admits_its_quota_then_refuses_until_its_window_has_passed() {
    for (policy, limit, window_secs) in [
        ("health", 10, 1),
        ("api", 100, 60),
        ("plants_create", 10, 60),
        ("chat", 30, 60),
        ("login", 5, 900),
        ("login_ip", 20, 900),
    ] {
        let (state, clock) = limited_state().await;
        let app = app!(state);
        for n in 0..limit {
            let response = call(&app, request_for(policy, n)).await;
            assert_ne!(
                response.status(),
                StatusCode::TOO_MANY_REQUESTS,
                "{policy} request {n}"
            );
        }
        let refused = call(&app, request_for(policy, limit)).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "{policy}");
        assert_eq!(
            header(&refused, "ratelimit-policy"),
            format!("\"{policy}\";q={limit};w={window_secs}")
        );
        assert_eq!(header(&refused, "x-ratelimit-remaining"), "0");
        let retry_after: i64 = header(&refused, "retry-after").parse().unwrap();
        let interval_secs =
            (i64::from(window_secs) * 1000 / i64::try_from(limit).unwrap() + 999) / 1000;
        assert_eq!(retry_after, interval_secs.max(1), "{policy}");
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
            assert_eq!(header(&refused, name), value, "{name} on a 429");
        }
        assert!(!header(&refused, "x-request-id").is_empty());
        let body: Value = serde_json::from_slice(&test::read_body(refused).await).unwrap();
        assert_eq!(body["code"], "ERR_RATE_001");
        assert_eq!(body["status"], 429);

        clock.advance(TimeDelta::seconds(i64::from(window_secs)));
        let again = call(&app, request_for(policy, limit + 1)).await;
        assert_ne!(
            again.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{policy} after its window"
        );
    }
}

#[actix_web::test]
async fn at_the_api_policys_full_pace_the_global_policy_refuses_within_the_hour() {
    let (state, clock) = limited_state().await;
    let app = app!(state);
    let started = clock.now();
    let mut admitted = 0;
    let refused = loop {
        let response = call(&app, request_for("global", 0)).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break response;
        }
        admitted += 1;
        assert!(admitted <= 1200, "the global policy never refused");
        // 100 per minute: the api policy never runs dry at this pace.
        clock.advance(TimeDelta::milliseconds(600));
    };
    assert_eq!(
        header(&refused, "ratelimit-policy"),
        "\"global\";q=1000;w=3600"
    );
    // GCRA: the burst of 1000, plus one request per 3.6 s of the time taken.
    assert!((1000..=1200).contains(&admitted), "{admitted}");
    assert!(clock.now() - started < TimeDelta::hours(1));
}

#[actix_web::test]
async fn headers_report_the_policy_with_the_least_remaining() {
    let (state, clock) = limited_state().await;
    let app = app!(state);

    let response = call(&app, request_for("api", 0)).await;

    assert_eq!(header(&response, "ratelimit-policy"), "\"api\";q=100;w=60");
    assert_eq!(header(&response, "ratelimit"), "\"api\";r=99;t=1");
    assert_eq!(header(&response, "x-ratelimit-limit"), "100");
    assert_eq!(header(&response, "x-ratelimit-remaining"), "99");
    assert_eq!(
        header(&response, "x-ratelimit-reset"),
        (clock.now().timestamp() + 1).to_string()
    );
}

#[actix_web::test]
async fn users_are_limited_apart_from_each_other_and_from_their_address() {
    let (state, _clock) = limited_state().await;
    let app = app!(state);
    let mut tokens = Vec::new();
    for email in ["ada@example.com", "grace@example.com"] {
        let password = "sunflower meadow at dawn";
        let register = from("198.51.100.20:1", test::TestRequest::post().uri("/api/v2/auth/register").set_json(json!({"tenant": "demo", "email": email, "password": password, "full_name": "Test"})));
        assert_eq!(call(&app, register).await.status(), StatusCode::CREATED);
        let login = from(
            "198.51.100.20:1",
            test::TestRequest::post()
                .uri("/api/v2/auth/login")
                .set_json(json!({"tenant": "demo", "email": email, "password": password})),
        );
        let body: Value =
            serde_json::from_slice(&test::read_body(call(&app, login).await).await).unwrap();
        tokens.push(body["access_token"].as_str().unwrap().to_owned());
    }
    let create = |token: Option<&str>| {
        let request = from(
            "198.51.100.30:1",
            test::TestRequest::post()
                .uri("/api/v2/plants")
                .set_json(json!({})),
        );
        match token {
            Some(token) => request.insert_header(("Authorization", format!("Bearer {token}"))),
            None => request,
        }
    };
    for _ in 0..10 {
        assert_ne!(
            call(&app, create(Some(&tokens[0]))).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }

    assert_eq!(
        call(&app, create(Some(&tokens[0]))).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_ne!(
        call(&app, create(Some(&tokens[1]))).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "another user"
    );
    assert_ne!(
        call(&app, create(None)).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the same address without a token"
    );
    let forged = format!("{}x", tokens[0]);
    assert_ne!(
        call(&app, create(Some(&forged))).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a forged token counts as its address"
    );
}

#[actix_web::test]
async fn forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let (state, _clock) = limited_state().await;
    let app = app!(state);
    let health = |peer: &str, forwarded: &str| {
        from(
            peer,
            test::TestRequest::get()
                .uri("/health/live")
                .insert_header(("X-Forwarded-For", forwarded.to_owned())),
        )
    };
    for _ in 0..10 {
        assert_eq!(
            call(&app, health("10.0.0.1:1", "198.51.100.1"))
                .await
                .status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        call(&app, health("10.0.0.2:1", "198.51.100.1"))
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS,
        "same client through another proxy"
    );
    assert_eq!(
        call(&app, health("10.0.0.1:1", "198.51.100.2"))
            .await
            .status(),
        StatusCode::OK,
        "another client"
    );

    // An untrusted peer is itself the client, whatever it forwards.
    for n in 0..10 {
        assert_eq!(
            call(&app, health("203.0.113.5:1", &format!("192.0.2.{n}")))
                .await
                .status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        call(&app, health("203.0.113.5:1", "192.0.2.99"))
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[actix_web::test]
async fn switched_off_rate_limiting_neither_refuses_nor_reports() {
    let app = app!(support::state(false, &[], true).await);
    for _ in 0..20 {
        let response = call(
            &app,
            from(
                "198.51.100.10:1",
                test::TestRequest::get().uri("/health/live"),
            ),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get("ratelimit").is_none());
    }
}

#[actix_web::test]
async fn an_oversized_login_is_still_413_when_its_name_is_read_for_the_limits() {
    let (state, _clock) = limited_state().await;
    let app = app!(state);
    let body = format!(
        "{{\"tenant\": \"demo\", \"email\": \"{}\"}}",
        "a".repeat(4096)
    );

    let response = call(
        &app,
        from(
            "198.51.100.10:1",
            test::TestRequest::post()
                .uri("/api/v2/auth/login")
                .insert_header(("Content-Type", "application/json"))
                .set_payload(body),
        ),
    )
    .await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

fn login_from(peer: &str, tenant: &str, email: &str, password: &str) -> test::TestRequest {
    from(
        peer,
        test::TestRequest::post()
            .uri("/api/v2/auth/login")
            .set_json(json!({"tenant": tenant, "email": email, "password": password})),
    )
}

#[actix_web::test]
async fn a_blocked_address_adds_no_keys_however_many_distinct_logins_it_sends() {
    let (state, _clock, store) = limited_state_and_store().await;
    let app = app!(state);
    let peer = "198.51.100.40:1";
    for n in 0..20 {
        let response = call(
            &app,
            login_from(peer, "demo", &format!("user{n}@example.com"), "x"),
        )
        .await;
        assert_ne!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "login {n}"
        );
    }
    let keys_when_blocked = store.len();

    for n in 0..100_000 {
        let response = call(
            &app,
            login_from(
                peer,
                &format!("tenant-{n}"),
                &format!("bogus{n}@example.com"),
                "x",
            ),
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "login {n}"
        );
    }

    assert_eq!(
        store.len(),
        keys_when_blocked,
        "no key was added for a refused request"
    );
}

#[actix_web::test]
async fn a_login_whose_email_does_not_parse_forms_no_account_key() {
    let (state, _clock, store) = limited_state_and_store().await;
    let app = app!(state);
    let keys_before = store.len();

    let response = call(
        &app,
        login_from("198.51.100.41:1", "demo", "not an email", "x"),
    )
    .await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // global, api and login_ip for the address; no per-account key.
    assert_eq!(store.len(), keys_before + 3);
}

#[actix_web::test]
async fn ipv6_clients_of_one_64_share_a_bucket() {
    let (state, _clock) = limited_state().await;
    let app = app!(state);
    let health = |peer: &str| from(peer, test::TestRequest::get().uri("/health/live"));
    for n in 0..10 {
        let peer = format!("[2001:db8:1:2::{n:x}]:443");
        assert_eq!(call(&app, health(&peer)).await.status(), StatusCode::OK);
    }

    assert_eq!(
        call(&app, health("[2001:db8:1:2:ffff:ffff:ffff:ffff]:443"))
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS,
        "another address of the same /64"
    );
    assert_eq!(
        call(&app, health("[2001:db8:1:3::1]:443")).await.status(),
        StatusCode::OK,
        "the next /64"
    );
}

#[actix_web::test]
async fn failed_logins_to_one_account_from_eleven_addresses_are_refused_at_the_eleventh() {
    let (state, _clock) = limited_state().await;
    let app = app!(state);
    let password = "sunflower meadow at dawn";
    let register = from(
        "198.51.100.50:1",
        test::TestRequest::post().uri("/api/v2/auth/register").set_json(
            json!({"tenant": "demo", "email": "ada@example.com", "password": password, "full_name": "Ada"}),
        ),
    );
    assert_eq!(call(&app, register).await.status(), StatusCode::CREATED);
    // A right password is no failure: it is never charged to the account.
    for n in 0..3 {
        let peer = format!("192.0.2.{}:1", 200 + n);
        let response = call(&app, login_from(&peer, "demo", "ada@example.com", password)).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    for n in 0..10 {
        let peer = format!("192.0.2.{n}:1");
        let response = call(
            &app,
            login_from(&peer, "demo", "Ada@Example.com", "wrong guess"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
    }

    let eleventh = call(
        &app,
        login_from("192.0.2.10:1", "demo", "ada@example.com", "wrong guess"),
    )
    .await;

    assert_eq!(eleventh.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        header(&eleventh, "ratelimit-policy"),
        "\"login_account\";q=10;w=3600"
    );
    let with_the_password = call(
        &app,
        login_from("192.0.2.11:1", "demo", "ada@example.com", password),
    )
    .await;
    assert_eq!(
        with_the_password.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the account is closed to every address for the hour"
    );
    let other_account = call(
        &app,
        login_from("192.0.2.12:1", "demo", "grace@example.com", "x"),
    )
    .await;
    assert_eq!(
        other_account.status(),
        StatusCode::UNAUTHORIZED,
        "other accounts are not"
    );
}

#[actix_web::test]
async fn a_login_body_with_an_extra_field_still_counts_against_its_account() {
    let (state, _clock) = limited_state().await;
    let app = app!(state);
    let tricky = || {
        from(
            "198.51.100.60:1",
            test::TestRequest::post()
                .uri("/api/v2/auth/login")
                .insert_header(("Content-Type", "application/json"))
                .set_payload(
                    r#"{"tenant": "demo", "email": "ada@example.com", "password": "x", "pad": 1e400}"#,
                ),
        )
    };
    for n in 0..5 {
        assert_eq!(
            call(&app, tricky()).await.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {n}"
        );
    }

    let sixth = call(&app, tricky()).await;

    assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&sixth, "ratelimit-policy"), "\"login\";q=5;w=900");
}

#[actix_web::test]
async fn concurrent_failed_logins_to_one_account_never_pass_its_quota_together() {
    let (state, _clock) = limited_state().await;
    let app = app!(state);

    let answers = futures_util::future::join_all((0..30).map(|n| {
        call(
            &app,
            login_from(
                &format!("192.0.2.{n}:1"),
                "demo",
                "ada@example.com",
                "wrong guess",
            ),
        )
    }))
    .await;

    let failed = answers
        .iter()
        .filter(|r| r.status() == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((failed, refused), (10, 20));
}
