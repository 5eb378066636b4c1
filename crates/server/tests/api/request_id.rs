use crate::helpers::{Backend, spawn_app};

#[tokio::test]
async fn a_well_formed_request_id_is_echoed() {
    let app = spawn_app(Backend::Sqlite).await;

    let response = app
        .send(
            |c, url| c.get(url).header("X-Request-ID", "client-id_1.2"),
            "/health/live",
        )
        .await;

    assert_eq!(response.header("x-request-id"), Some("client-id_1.2"));
}

#[tokio::test]
async fn a_request_without_an_id_gets_a_generated_uuid() {
    let app = spawn_app(Backend::Sqlite).await;

    let first = app.get_liveness().await;
    let second = app.get_liveness().await;

    let first_id = first.header("x-request-id").expect("an id is generated");
    let second_id = second.header("x-request-id").expect("an id is generated");
    assert!(uuid::Uuid::parse_str(first_id).is_ok(), "{first_id}");
    assert_ne!(first_id, second_id);
}

#[tokio::test]
async fn a_malformed_request_id_is_replaced() {
    let app = spawn_app(Backend::Sqlite).await;
    let too_long = "x".repeat(129);

    for bad in ["has space", "semi;colon", too_long.as_str()] {
        let response = app
            .send(
                |c, url| c.get(url).header("X-Request-ID", bad),
                "/health/live",
            )
            .await;
        let id = response.header("x-request-id").expect("an id is generated");
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(id).is_ok());
    }
}

#[tokio::test]
async fn the_request_id_is_quoted_in_problem_bodies() {
    let app = spawn_app(Backend::Sqlite).await;

    let response = app
        .send(
            |c, url| c.get(url).header("X-Request-ID", "trace-me-42"),
            "/api/v2/nothing-here",
        )
        .await;

    assert_eq!(response.status, 404);
    assert_eq!(response.json()["request_id"], "trace-me-42");
    assert_eq!(response.header("x-request-id"), Some("trace-me-42"));
}
