//! Rate limiting against a real Redis: instances sharing it admit exactly a policy's quota
//! together, and losing Redis mid-flight falls back to per-instance limits without one 500.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use application::ratelimit::{Check, RateLimiter};
use domain::{ratelimit::Policy, secret::Secret};
use infrastructure::{
    ratelimit::{InProcessRateLimitStore, RedisRateLimitStore},
    redis::{RedisPool, RedisSettings},
};
use serde_json::json;
use tokio::{net::TcpListener, task::JoinSet};

use crate::helpers::{Backend, TestClock, redis_url, spawn_app_with};

fn redis_limiter(prefix: &str, clock: Arc<TestClock>) -> RateLimiter {
    let pool = RedisPool::new(&RedisSettings {
        url: Secret::new(redis_url()),
        connect_retries: 3,
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    RateLimiter::new(
        Some(Arc::new(RedisRateLimitStore::new(pool, prefix))),
        Arc::new(InProcessRateLimitStore::new()),
        clock,
    )
}

#[tokio::test]
async fn two_limiters_sharing_redis_admit_exactly_the_quota_under_concurrent_load() {
    let prefix = format!("test-{}:", uuid::Uuid::now_v7().simple());
    // Never advanced: the quota does not refill during the test.
    let clock = TestClock::new();
    let instances = [
        redis_limiter(&prefix, clock.clone()),
        redis_limiter(&prefix, clock.clone()),
    ];
    let check = [Check::counted(Policy::API, "user:one".to_owned())];

    let mut requests = JoinSet::new();
    for n in 0..300 {
        let limiter = instances[n % 2].clone();
        let check = check.clone();
        requests.spawn(async move { limiter.check(&check).await.unwrap().allowed });
    }
    let admitted = requests
        .join_all()
        .await
        .into_iter()
        .filter(|allowed| *allowed)
        .count();

    assert_eq!(admitted, 100);
    assert_eq!(instances[0].fallbacks() + instances[1].fallbacks(), 0);
}

/// A TCP proxy in front of the test run's Redis that the test can cut, as if Redis stopped.
struct RedisProxy {
    address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RedisProxy {
    async fn start(address: &str) -> Self {
        let listener = TcpListener::bind(address).await.unwrap();
        let address = listener.local_addr().unwrap();
        let target = redis_url()
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_owned();
        let task = tokio::spawn(async move {
            // Dropped with the task: every proxied connection goes with it.
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                connections.spawn(async move {
                    if let Ok(mut redis) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut redis).await;
                    }
                });
            }
        });
        Self { address, task }
    }

    fn url(&self) -> String {
        format!("redis://{}", self.address)
    }

    async fn stop(self) -> SocketAddr {
        self.task.abort();
        let _ = self.task.await;
        self.address
    }
}

#[tokio::test]
async fn losing_redis_falls_back_to_local_limits_without_a_single_500() {
    let proxy = RedisProxy::start("127.0.0.1:0").await;
    let url = proxy.url();
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("REDIS_URL", url.as_str()),
            ("REDIS_TIMEOUT_MS", "300"),
            ("RATE_LIMIT_ENABLED", "true"),
        ],
    )
    .await;
    let login = || async {
        app.post_json(
            "/api/v2/auth/login",
            &json!({"tenant": "demo", "email": "nobody@example.com", "password": "not the password"}),
        )
        .await
    };
    for _ in 0..2 {
        let response = login().await;
        assert_eq!(response.status, 401);
        assert_eq!(
            response.header("ratelimit-policy"),
            Some("\"login\";q=5;w=900")
        );
    }
    assert_eq!(app.get_health().await.json()["status"], "healthy");

    let address = proxy.stop().await;

    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = login().await;
        assert!(
            response.header("ratelimit").is_some(),
            "still limited, still reported"
        );
        statuses.push(response.status);
    }
    for path in ["/api/v2/catalog", "/api/v2/personalities", "/health/live"] {
        statuses.push(app.get(path).await.status);
    }
    assert!(!statuses.contains(&500), "{statuses:?}");
    // Five logins per address and name, now counted by this instance alone: never unlimited.
    assert_eq!(&statuses[..6], &[401, 401, 401, 401, 401, 429]);
    let health = app.get_health().await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "degraded");

    // Redis comes back on the same address: the pool reconnects by itself.
    let _proxy = RedisProxy::start(&address.to_string()).await;
    assert_eq!(app.get_health().await.json()["status"], "healthy");
}

#[tokio::test]
async fn a_redis_that_accepts_but_never_answers_costs_a_request_its_timeout_not_a_hang() {
    // Accepts connections and reads nothing back: a hanging Redis.
    let black_hole = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("redis://{}", black_hole.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = black_hole.accept().await {
            held.push(connection);
        }
    });
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("REDIS_URL", url.as_str()),
            ("REDIS_TIMEOUT_MS", "100"),
            ("REDIS_CONNECT_RETRIES", "0"),
            ("RATE_LIMIT_ENABLED", "true"),
        ],
    )
    .await;

    let response = app.get("/api/v2/personalities").await;

    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("ratelimit-policy"),
        Some("\"api\";q=100;w=60")
    );
    assert_eq!(app.get_health().await.json()["status"], "degraded");
}

#[tokio::test]
async fn in_redis_a_request_refused_by_one_policy_is_charged_to_none() {
    let prefix = format!("test-{}:", uuid::Uuid::now_v7().simple());
    let limiter = redis_limiter(&prefix, TestClock::new());
    let address = || Check::counted(Policy::LOGIN_IP, "ip:198.51.100.9".to_owned());
    let account = |n: usize| Check::counted(Policy::LOGIN, format!("ip:198.51.100.9:account:{n}"));
    for n in 0..20 {
        assert!(
            limiter
                .check(&[address(), account(n)])
                .await
                .unwrap()
                .allowed
        );
    }

    for n in 100..300 {
        let verdict = limiter.check(&[address(), account(n)]).await.unwrap();
        assert!(!verdict.allowed);
        assert_eq!(verdict.reported.policy, Policy::LOGIN_IP);
    }

    let first_charge = limiter.check(&[account(100)]).await.unwrap();
    assert_eq!(
        first_charge.reported.status.remaining, 4,
        "the refused requests spent nothing of the account's quota"
    );
    let peeked = Check::peeked(Policy::LOGIN_ACCOUNT, "account:42".to_owned());
    for _ in 0..20 {
        assert!(
            limiter
                .check(std::slice::from_ref(&peeked))
                .await
                .unwrap()
                .allowed
        );
    }
    assert_eq!(limiter.fallbacks(), 0);
}
