//! The hardening rules of SPEC §5.3 attacked from outside: other spellings of a limited path,
//! a flood of logins against a bounded hashing pool, logins racing a deactivation, a password
//! change and a STOP, and a database outage on every kind of route.

use futures_util::future::join_all;
use serde_json::json;

use crate::{
    helpers::{
        ADMIN_KEY, Backend, PASSWORD, TestApp, TestDatabase, TestResponse, TestUser, count,
        on_both_backends, spawn_app, spawn_app_with,
    },
    sms::spawn_twilio_app,
};

/// Limits on, and the test client's address trusted as a proxy so that each test can speak
/// for clients of its own choosing.
const LIMITED: &[(&str, &str)] = &[
    ("RATE_LIMIT_ENABLED", "true"),
    ("TRUSTED_PROXIES", "127.0.0.1/32"),
];

impl TestApp {
    /// POSTs `body` to a path spelled exactly as given, as the client `client_ip`.
    async fn post_spelled(
        &self,
        path: &str,
        client_ip: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> TestResponse {
        self.send(
            |client, url| {
                let request = client
                    .post(url)
                    .header("X-Forwarded-For", client_ip)
                    .json(body);
                match token {
                    Some(token) => request.bearer_auth(token),
                    None => request,
                }
            },
            path,
        )
        .await
    }
}

/// Spellings the router decodes to the same route as the canonical path.
fn same_route(canonical: &str) -> Vec<String> {
    let mut spellings = vec![
        canonical.to_owned(),
        canonical.replacen("/api/", "/%61pi/", 1),
    ];
    spellings.push(canonical.replacen("/v2/", "/%76%32/", 1));
    if let Some((head, last)) = canonical.rsplit_once('/') {
        let mut letters = last.chars();
        if let Some(first) = letters.next() {
            spellings.push(format!(
                "{head}/%{:02x}{}",
                u32::from(first),
                letters.as_str()
            ));
        }
        let encoded: String = last.bytes().map(|b| format!("%{b:02X}")).collect();
        spellings.push(format!("{head}/{encoded}"));
    }
    spellings
}

/// Spellings that reach no handler of the route.
fn other_routes(canonical: &str) -> Vec<String> {
    let (head, last) = canonical.rsplit_once('/').expect("a path with segments");
    vec![
        format!("{canonical}/"),
        format!("/{canonical}"),
        canonical.replacen("/v2/", "/v2//", 1),
        format!("{head}%2F{last}"),
        format!("{head}%2f{last}"),
    ]
}

/// Sends `attempts` requests, cycling through `spellings`, and answers the statuses.
async fn statuses(
    app: &TestApp,
    spellings: &[String],
    attempts: usize,
    client_ip: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> Vec<(String, u16, String)> {
    let mut answers = Vec::new();
    for n in 0..attempts {
        let path = &spellings[n % spellings.len()];
        let response = app.post_spelled(path, client_ip, token, body).await;
        let policy = response
            .header("ratelimit-policy")
            .unwrap_or_default()
            .to_owned();
        answers.push((path.clone(), response.status, policy));
    }
    answers
}

/// Every spelling of one route shares one quota: `quota` answers that are not 429, then 429
/// from `policy`; every spelling of another route is 404 (or 405 where the encoded slash lands
/// on a shorter route) and spends nothing.
fn assert_one_quota(answers: &[(String, u16, String)], quota: usize, policy: &str) {
    for (n, (path, status, _)) in answers.iter().enumerate().take(quota) {
        assert_ne!(*status, 429, "request {n} ({path}) is within the quota");
        assert_ne!(*status, 404, "request {n} ({path}) reaches the handler");
    }
    let (path, status, reported) = &answers[quota];
    assert_eq!(*status, 429, "{path} is refused once the quota is spent");
    assert!(
        reported.starts_with(&format!("\"{policy}\"")),
        "{path}: {reported}"
    );
}

async fn assert_no_handler(
    app: &TestApp,
    spellings: &[String],
    client_ip: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) {
    for path in spellings {
        let response = app.post_spelled(path, client_ip, token, body).await;
        assert!(
            [404, 405].contains(&response.status),
            "{path} reaches no handler: {} {}",
            response.status,
            response.body
        );
    }
}

on_both_backends! {
    async fn every_spelling_of_login_shares_the_login_limits(backend: Backend) {
        let app = spawn_app_with(backend, LIMITED).await;
        let body = json!({"tenant": "demo", "email": "ada@example.com", "password": "a wrong guess"});
        assert_no_handler(&app, &other_routes("/api/v2/auth/login"), "198.51.100.1", None, &body).await;

        let answers = statuses(&app, &same_route("/api/v2/auth/login"), 6, "198.51.100.1", None, &body).await;

        assert_one_quota(&answers, 5, "login");
        assert!(answers[..5].iter().all(|(_, status, _)| *status == 401), "{answers:?}");
    }

    async fn every_spelling_of_register_shares_the_login_limits(backend: Backend) {
        let app = spawn_app_with(backend, LIMITED).await;
        let body = json!({"tenant": "demo", "email": "ada@example.com", "password": PASSWORD, "full_name": "Ada"});
        assert_no_handler(&app, &other_routes("/api/v2/auth/register"), "198.51.100.2", None, &body).await;

        let answers = statuses(&app, &same_route("/api/v2/auth/register"), 6, "198.51.100.2", None, &body).await;

        assert_one_quota(&answers, 5, "login");
        assert_eq!(answers[0].1, 201);
    }

    async fn every_spelling_of_plant_creation_shares_its_limit(backend: Backend) {
        let app = spawn_app_with(backend, LIMITED).await;
        let user = signed_up_from(&app, "198.51.100.3", "ada@example.com").await;
        let body = json!({"catalog_plant_id": app.catalog_id("Basil").await, "nickname": "Basil"});
        assert_no_handler(&app, &other_routes("/api/v2/plants"), "198.51.100.3", Some(&user.access_token), &body).await;

        let answers = statuses(&app, &same_route("/api/v2/plants"), 11, "198.51.100.3", Some(&user.access_token), &body).await;

        assert_one_quota(&answers, 10, "plants_create");
        assert!(answers[..10].iter().all(|(_, status, _)| *status == 201), "{answers:?}");
    }

    async fn every_spelling_of_chat_shares_its_limit(backend: Backend) {
        let app = spawn_app_with(backend, LIMITED).await;
        let user = signed_up_from(&app, "198.51.100.4", "ada@example.com").await;
        let plant = app.add_plant(&user, "Basil", "Basil").await;
        let canonical = format!("/api/v2/plants/{}/chat", plant["id"].as_str().unwrap());
        let body = json!({"message": "hello"});
        assert_no_handler(&app, &other_routes(&canonical), "198.51.100.4", Some(&user.access_token), &body).await;

        let answers = statuses(&app, &same_route(&canonical), 31, "198.51.100.4", Some(&user.access_token), &body).await;

        assert_one_quota(&answers, 30, "chat");
        assert!(answers[..30].iter().all(|(_, status, _)| *status == 200), "{answers:?}");
    }
}

/// Registers and logs in from `client_ip` (the login limits are per address).
async fn signed_up_from(app: &TestApp, client_ip: &str, email: &str) -> TestUser {
    let registered = app
        .post_spelled(
            "/api/v2/auth/register",
            client_ip,
            None,
            &json!({"tenant": "demo", "email": email, "password": PASSWORD, "full_name": "Test"}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let login = app
        .post_spelled(
            "/api/v2/auth/login",
            client_ip,
            None,
            &json!({"tenant": "demo", "email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let tokens = login.json();
    TestUser {
        id: registered.json()["id"].as_str().unwrap().to_owned(),
        access_token: tokens["access_token"].as_str().unwrap().to_owned(),
        refresh_token: tokens["refresh_token"].as_str().unwrap().to_owned(),
    }
}

/// An app hashing on one thread with room for `queue` more, and `email` signed up in `demo`.
async fn one_hashing_thread(queue: usize, email: &str) -> TestApp {
    let queue = queue.to_string();
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("HASH_CONCURRENCY", "1"), ("HASH_QUEUE", queue.as_str())],
    )
    .await;
    app.signed_up("demo", email).await;
    app
}

#[tokio::test]
async fn a_flood_of_logins_beyond_the_hashing_queue_is_answered_503_with_retry_after() {
    let app = one_hashing_thread(2, "ada@example.com").await;

    let answers =
        join_all((0..200).map(|_| app.login("demo", "ada@example.com", "a wrong guess"))).await;

    let busy: Vec<&TestResponse> = answers.iter().filter(|r| r.status == 503).collect();
    let refused = answers.iter().filter(|r| r.status == 401).count();
    assert_eq!(busy.len() + refused, 200, "only 401 and 503");
    assert!(
        refused >= 3,
        "the running and queued hashes are answered: {refused}"
    );
    assert!(!busy.is_empty(), "beyond the queue, logins are refused");
    for response in busy {
        assert_eq!(response.header("retry-after"), Some("1"));
        assert_eq!(
            response.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(response.json()["code"], "ERR_UNAVAILABLE_003");
    }
}

/// Fires `logins` logins of `email` with `password` at once with `other`, and answers the
/// sessions the logins obtained.
async fn racing_logins<F: Future<Output = TestResponse>>(
    app: &TestApp,
    email: &str,
    password: &str,
    logins: usize,
    other: F,
) -> (Vec<serde_json::Value>, TestResponse) {
    let logins = join_all((0..logins).map(|_| app.login("demo", email, password)));
    let (answers, other) = tokio::join!(logins, other);
    let sessions = answers
        .into_iter()
        .filter(|response| response.status == 200)
        .map(|response| response.json())
        .collect();
    (sessions, other)
}

async fn assert_every_session_is_dead(app: &TestApp, sessions: &[serde_json::Value]) {
    for session in sessions {
        let refreshed = app
            .refresh(session["refresh_token"].as_str().unwrap())
            .await;
        assert_eq!(
            refreshed.status, 401,
            "a racing login's refresh token still works"
        );
        let me = app
            .get_as(session["access_token"].as_str().unwrap(), "/api/v2/me")
            .await;
        assert_eq!(me.status, 401, "a racing login's access token still works");
    }
}

#[tokio::test]
async fn logins_racing_a_deactivation_never_undo_it() {
    let app = spawn_app(Backend::Postgres).await;
    for round in 0..5 {
        let email = format!("ada{round}@example.com");
        let user = app.signed_up("demo", &email).await;
        let path = format!("/api/v2/admin/users/{}", user.id);
        let body = json!({"is_active": false});
        let deactivate = app.admin(reqwest::Method::PATCH, Some(ADMIN_KEY), &path, Some(&body));

        let (sessions, deactivated) = racing_logins(&app, &email, PASSWORD, 12, deactivate).await;

        assert_eq!(deactivated.status, 200, "{}", deactivated.body);
        assert_eq!(deactivated.json()["is_active"], false);
        assert_every_session_is_dead(&app, &sessions).await;
        let after = app.login("demo", &email, PASSWORD).await;
        assert_eq!(after.status, 403, "the account stays deactivated");
    }
}

#[tokio::test]
async fn logins_racing_a_password_change_never_undo_it() {
    let app = spawn_app(Backend::Postgres).await;
    let new_password = "a brand new garden path";
    for round in 0..5 {
        let email = format!("ada{round}@example.com");
        let user = app.signed_up("demo", &email).await;
        let body = json!({"password": new_password, "current_password": PASSWORD});
        let change = app.patch_json_as(&user.access_token, "/api/v2/me", &body);

        let (sessions, changed) = racing_logins(&app, &email, PASSWORD, 12, change).await;

        assert_eq!(changed.status, 200, "{}", changed.body);
        assert_every_session_is_dead(&app, &sessions).await;
        assert_eq!(
            app.login("demo", &email, PASSWORD).await.status,
            401,
            "the old password is gone"
        );
        assert_eq!(app.login("demo", &email, new_password).await.status, 200);
    }
}

#[tokio::test]
async fn logins_racing_a_stop_never_undo_it() {
    let app = spawn_twilio_app(Backend::Postgres).await;
    for round in 0..5_u8 {
        let email = format!("ada{round}@example.com");
        let phone = format!("+1555123990{round}");
        let user = app.verified_texting_user(&email, &phone).await;
        let message_sid = format!("SMSTOP{round}");
        let stop = app.text(&message_sid, &phone, "STOP");

        let (_, stopped) = racing_logins(&app, &email, PASSWORD, 12, stop).await;

        assert_eq!(stopped.status, 200, "{}", stopped.body);
        let me = app.get_as(&user.access_token, "/api/v2/me").await.json();
        assert_eq!(me["sms_opt_in"], false, "a login wrote the opt-in back");
    }
}

#[tokio::test]
async fn with_the_database_gone_every_kind_of_route_answers_503_problem_json() {
    let app = spawn_twilio_app(Backend::Postgres).await;
    let user = app
        .verified_texting_user("ada@example.com", "+15551239999")
        .await;
    let plant = app.add_plant(&user, "Basil", "Basil").await;
    let name = app
        .database
        .postgres_name
        .clone()
        .expect("a PostgreSQL database");
    TestDatabase::admin_sql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
    TestDatabase::admin_sql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await;

    let answers = [
        (
            "inbound webhook",
            app.text("SMOUTAGE1", "+15551239999", "Basil: hello").await,
        ),
        (
            "login",
            app.login("demo", "ada@example.com", PASSWORD).await,
        ),
        (
            "chat",
            app.chat(&user, plant["id"].as_str().unwrap(), "hello")
                .await,
        ),
        (
            "admin",
            app.admin(
                reqwest::Method::GET,
                Some(ADMIN_KEY),
                "/api/v2/admin/tenants",
                None,
            )
            .await,
        ),
        (
            "register",
            app.register("demo", "grace@example.com", PASSWORD).await,
        ),
    ];

    TestDatabase::admin_sql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    for (route, response) in answers {
        assert_eq!(response.status, 503, "{route}: {}", response.body);
        assert_eq!(
            response.header("content-type"),
            Some("application/problem+json"),
            "{route}"
        );
        assert_eq!(response.json()["code"], "ERR_UNAVAILABLE_001", "{route}");
    }
}

/// Logins whose clients closed their connections while the logins waited for the hashing
/// thread are never hashed (SPEC §5.3: a hash whose request has given up is not started): no
/// session comes of them, and the thread is free for those still waiting.
#[tokio::test]
async fn logins_whose_clients_left_while_queued_are_never_hashed() {
    use tokio::io::AsyncWriteExt as _;

    let app = one_hashing_thread(16, "leaver@example.com").await;
    let db = crate::helpers::connect(&app.database.url).await;
    let sessions = || count(&db, "SELECT COUNT(*) FROM refresh_tokens");
    let before = sessions().await;
    let host = app.address.trim_start_matches("http://").to_owned();
    let body =
        json!({"tenant": "demo", "email": "leaver@example.com", "password": PASSWORD}).to_string();
    let request = format!(
        "POST /api/v2/auth/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );

    // Eight right-password logins, each on its own connection, all closed at once: the first
    // may already be hashing, the others wait behind it when their clients go.
    let mut connections = Vec::new();
    for _ in 0..8 {
        connections.push(tokio::net::TcpStream::connect(&host).await.unwrap());
    }
    // Connected first, then written and closed in one sweep: the closes follow the requests
    // within microseconds, long before the first hash is done.
    for connection in &mut connections {
        connection.write_all(request.as_bytes()).await.unwrap();
    }
    drop(connections);

    // A login that stays: it queues behind whatever is left, so once it is answered every
    // abandoned login has been hashed or skipped.
    let stayed = app.login("demo", "leaver@example.com", PASSWORD).await;
    assert_eq!(stayed.status, 200, "{}", stayed.body);

    let started = sessions().await - before;
    assert!(
        started <= 2,
        "the login that stayed and at most the one already hashing: {started} sessions"
    );
}
