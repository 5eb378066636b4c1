//! Error paths through the real server; the JSON body errors and panics are covered with extra
//! routes in the http crate's own tests.

use crate::helpers::{Backend, spawn_app};

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app(Backend::Sqlite).await;

    let response = app.get("/api/v2/does-not-exist").await;

    assert_eq!(response.status, 404);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    let body = response.json();
    assert_eq!(body["code"], "ERR_ROUTE_001");
    assert_eq!(body["status"], 404);
    assert_eq!(body["title"], "Not Found");
    assert!(body["type"].as_str().unwrap().starts_with("https://"));
    assert_eq!(body["errors"], serde_json::json!([]));
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem_with_allow() {
    let app = spawn_app(Backend::Sqlite).await;

    let response = app.send(|c, url| c.delete(url), "/health").await;

    assert_eq!(response.status, 405);
    assert_eq!(response.header("allow"), Some("GET, HEAD"));
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(response.json()["code"], "ERR_ROUTE_002");
}

#[tokio::test]
async fn the_openapi_document_and_the_docs_page_are_served() {
    let app = spawn_app(Backend::Sqlite).await;

    let openapi = app.get_openapi().await;
    let page = app.get("/docs").await;
    let script = app.get("/docs/swagger-ui-bundle.js").await;

    assert_eq!(openapi.status, 200);
    assert!(
        openapi.json()["openapi"]
            .as_str()
            .unwrap()
            .starts_with("3.1")
    );
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/docs/swagger-ui-bundle.js"));
    assert!(
        !page.body.contains("https://"),
        "the docs page loads nothing from elsewhere"
    );
    assert_eq!(script.status, 200);
    assert!(script.body.len() > 100_000);
}

#[tokio::test]
async fn every_get_route_answers_head_with_the_headers_and_no_body() {
    let app = spawn_app(Backend::Sqlite).await;
    let user = app.signed_up("demo", "head@example.com").await;
    for (path, token) in [
        ("/health/live", None),
        ("/api/v2/catalog", None),
        ("/api/v2/personalities", None),
        ("/api/v2/openapi.json", None),
        ("/api/v2/me", Some(user.access_token.as_str())),
        ("/api/v2/plants", Some(user.access_token.as_str())),
        ("/api/v2/gardens", Some(user.access_token.as_str())),
    ] {
        let with_token = |request: reqwest::RequestBuilder| match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let get = app.send(|c, url| with_token(c.get(url)), path).await;
        let head = app.send(|c, url| with_token(c.head(url)), path).await;
        assert_eq!(head.status, get.status, "{path}");
        assert_eq!(head.status, 200, "{path}");
        assert!(head.body.is_empty(), "{path}: HEAD carried a body");
        for name in [
            "content-type",
            "cache-control",
            "etag",
            "x-content-type-options",
        ] {
            assert_eq!(head.header(name), get.header(name), "{path}: {name}");
        }
        assert!(head.header("x-request-id").is_some(), "{path}");
    }
    let unknown = app.send(|c, url| c.head(url), "/api/v2/nothing-here").await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_body_field_of_the_wrong_json_type_is_named_in_the_problem() {
    let app = spawn_app(Backend::Sqlite).await;
    let user = app.signed_up("demo", "types@example.com").await;

    for (path, body, field) in [
        (
            "/api/v2/gardens",
            serde_json::json!({"name": "Plot", "width": "x", "length": 2}),
            "width",
        ),
        (
            "/api/v2/plants",
            serde_json::json!({"catalog_plant_id": 7, "nickname": "Fern"}),
            "catalog_plant_id",
        ),
        (
            "/api/v2/auth/login",
            serde_json::json!({"tenant": "demo", "email": "types@example.com", "password": ["x"]}),
            "password",
        ),
    ] {
        let response = app.post_json_as(&user.access_token, path, &body).await;
        assert_eq!(response.status, 422, "{path}: {}", response.body);
        let problem = response.json();
        assert_eq!(problem["code"], "ERR_VALIDATION_001", "{path}");
        assert_eq!(problem["errors"][0]["field"], field, "{path}: {problem}");
    }
}
