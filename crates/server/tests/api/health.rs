use crate::helpers::{Backend, TestDatabase, on_both_backends, spawn_app};

on_both_backends! {
    async fn health_reports_every_dependency_and_is_healthy_with_only_a_database(backend: Backend) {
        let app = spawn_app(backend).await;

        let response = app.get_health().await;

        assert_eq!(response.status, 200);
        let body = response.json();
        assert_eq!(body["status"], "healthy");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(body["checks"]["database"]["status"], "up");
        assert_eq!(body["checks"]["migrations"]["status"], "up");
        assert_eq!(body["checks"]["redis"]["status"], "disabled");
        assert_eq!(body["checks"]["openai"]["status"], "fallback");
        assert_eq!(body["checks"]["twilio"]["status"], "demo");
        assert!(body["checks"]["database"]["latency_ms"].is_u64());
    }

    async fn liveness_and_readiness_answer_200_when_the_database_is_up(backend: Backend) {
        let app = spawn_app(backend).await;

        let live = app.get_liveness().await;
        let ready = app.get_readiness().await;
        let alias = app.get("/ready").await;

        assert_eq!((live.status, live.json()["status"].as_str()), (200, Some("alive")));
        assert_eq!((ready.status, ready.json()["status"].as_str()), (200, Some("ready")));
        assert_eq!(alias.status, 200);
    }

    async fn the_openai_and_twilio_modes_follow_the_configuration(backend: Backend) {
        let app = crate::helpers::spawn_app_with(backend, &[
            ("OPENAI_API_KEY", "sk-test-key"),
            ("TWILIO_ACCOUNT_SID", "AC0123"),
            ("TWILIO_AUTH_TOKEN", "token"),
            ("TWILIO_PHONE_NUMBER", "+14155550100"),
        ]).await;

        let body = app.get_health().await.json();

        assert_eq!(body["checks"]["openai"]["status"], "live");
        assert_eq!(body["checks"]["twilio"]["status"], "live");
    }
}

#[tokio::test]
async fn health_answers_503_while_the_database_is_gone_and_200_once_it_is_back_without_a_restart() {
    let app = spawn_app(Backend::Postgres).await;
    let name = app
        .database
        .postgres_name
        .clone()
        .expect("a PostgreSQL database");
    assert_eq!(app.get_health().await.status, 200);

    TestDatabase::admin_sql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
    TestDatabase::admin_sql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await;

    let gone = app.get_health().await;
    assert_eq!(gone.status, 503);
    let body = gone.json();
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["checks"]["database"]["status"], "down");
    let not_ready = app.get_readiness().await;
    assert_eq!(
        (not_ready.status, not_ready.json()["reason"].as_str()),
        (503, Some("database_unavailable"))
    );
    assert_eq!(
        app.get_liveness().await.status,
        200,
        "liveness does not depend on the database"
    );

    TestDatabase::admin_sql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;

    let back = app.get_health().await;
    assert_eq!(back.status, 200);
    assert_eq!(back.json()["checks"]["database"]["status"], "up");
    assert_eq!(app.get_readiness().await.status, 200);
}
