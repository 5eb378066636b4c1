//! Redis through its adapter, against the real server of the test run.

use std::time::Duration;

use application::ops::HealthProbe as _;
use domain::{ops::CheckStatus, secret::Secret};
use infrastructure::redis::{RedisPool, RedisProbe, RedisSettings};

use crate::helpers::{Backend, redis_url, spawn_app_with};

fn unused_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("redis://127.0.0.1:{port}")
}

fn settings(url: String) -> RedisSettings {
    RedisSettings {
        url: Secret::new(url),
        connect_retries: 1,
        timeout: Duration::from_millis(500),
    }
}

#[tokio::test]
async fn the_redis_probe_is_up_against_a_real_redis() {
    let pool = RedisPool::new(&settings(redis_url())).expect("valid URL");

    pool.wait_until_ready(3).await.expect("Redis answers");

    assert_eq!(RedisProbe::new(pool).probe().await.status, CheckStatus::Up);
}

#[tokio::test]
async fn the_redis_probe_is_down_when_nothing_listens() {
    let pool = RedisPool::new(&settings(unused_port_url())).expect("valid URL");

    assert!(pool.wait_until_ready(1).await.is_err());
    assert_eq!(
        RedisProbe::new(pool).probe().await.status,
        CheckStatus::Down
    );
}

#[tokio::test]
async fn health_reports_redis_up_when_configured() {
    let url = redis_url();
    let app = spawn_app_with(Backend::Sqlite, &[("REDIS_URL", url.as_str())]).await;

    let body = app.get_health().await.json();

    assert_eq!(body["status"], "healthy");
    assert_eq!(body["checks"]["redis"]["status"], "up");
}

#[tokio::test]
async fn an_unreachable_redis_degrades_health_without_failing_it() {
    let url = unused_port_url();
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("REDIS_URL", url.as_str()), ("REDIS_CONNECT_RETRIES", "0")],
    )
    .await;

    let response = app.get_health().await;

    assert_eq!(response.status, 200);
    assert_eq!(response.json()["status"], "degraded");
    assert_eq!(response.json()["checks"]["redis"]["status"], "down");
}
