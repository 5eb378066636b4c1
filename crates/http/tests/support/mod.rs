//! The state of a test app: the real use cases over an in-memory SQLite database.

#![expect(
    clippy::unwrap_used,
    reason = "set-up code of the tests fails the test loudly"
)]

use std::{sync::Arc, time::Duration};

use application::{
    compose::{Adapters, Tunables, compose},
    metrics::Metrics,
    ops::StaticProbe,
    sms::{SmsCaps, WebhookGate},
};
use domain::{
    ops::{CheckStatus, Dependency},
    secret::Secret,
};
use infrastructure::{
    cache::InProcessCatalogCache,
    flags::InMemoryFlags,
    persistence::{Database, DatabaseSettings, stores},
    security::{
        Argon2Parameters, Argon2PasswordHasher, HashingLimits, JwtSettings, JwtTokenService,
        Sha256AdminKeyring,
    },
    system::{SystemClock, UuidV7Ids},
    twilio::DemoSmsSender,
};
use migration::{Migrator, MigratorTrait, seed};
use plant_texts_http::{
    ApiState, HttpSettings, MetricsAccess, client_ip::TrustedProxies, trace_context::TraceSampling,
};

/// An app state over a fresh in-memory SQLite database, migrated and seeded when `migrate`, with
/// `admin_keys` as the platform admin keys. Argon2 runs with cheap parameters: these tests check
/// behaviour, not cost.
pub async fn state(expose_internal_errors: bool, admin_keys: &[&str], migrate: bool) -> ApiState {
    let database = Database::connect(&DatabaseSettings {
        url: Secret::new("sqlite::memory:"),
        pool_size: 1,
        min_connections: 1,
        acquire_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(60),
        max_lifetime: Duration::from_secs(60),
        statement_timeout: Duration::from_secs(1),
        slow_statement_threshold: Duration::from_secs(1),
        account_standing_ttl: Duration::from_secs(5),
    })
    .await
    .unwrap();
    if migrate {
        Migrator::up(database.connection(), None).await.unwrap();
        seed::run(database.connection()).await.unwrap();
    }
    let keys: Vec<Secret> = admin_keys.iter().map(|key| Secret::new(*key)).collect();
    let adapters = Adapters {
        stores: stores(&database),
        catalog_cache: Arc::new(InProcessCatalogCache::new()),
        hasher: Arc::new(
            Argon2PasswordHasher::new(
                Argon2Parameters {
                    memory_kib: 1024,
                    iterations: 1,
                    parallelism: 1,
                },
                HashingLimits::per_cpu(),
            )
            .unwrap(),
        ),
        tokens: Arc::new(JwtTokenService::new(JwtSettings {
            secret: Secret::new("a-signing-key-for-tests-0123456789abcdef"),
            issuer: "plant-texts".into(),
            audience: "plant-texts-api".into(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(3600),
            session_lifetime: Duration::from_secs(7200),
        })),
        admin_keyring: Arc::new(Sha256AdminKeyring::new(&keys)),
        chat_model: None,
        sms_sender: Arc::new(DemoSmsSender),
        webhook_gate: WebhookGate::closed(),
        flags: Arc::new(InMemoryFlags::new(|_| true)),
        rate_limits: None,
        health_probes: vec![
            Arc::new(StaticProbe::new(Dependency::Database, CheckStatus::Up)),
            Arc::new(StaticProbe::new(Dependency::Migrations, CheckStatus::Up)),
        ],
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
        metrics: Metrics::default(),
    };
    let tunables = Tunables {
        sms_caps: SmsCaps {
            per_recipient: 20,
            platform: 10_000,
        },
        sms_status_callback: None,
        probe_timeout: Duration::from_secs(1),
    };
    ApiState::new(
        compose(adapters, tunables),
        HttpSettings {
            version: "test",
            max_body_bytes: 1024,
            expose_internal_errors,
            public_base_url: None,
            request_timeout: Duration::from_millis(200),
            allowed_hosts: None,
            hsts: false,
            cors_origins: Vec::new(),
            trusted_proxies: TrustedProxies::default(),
            trace_sampling: TraceSampling::OFF,
        },
        MetricsAccess {
            token: None,
            commit: "test",
        },
    )
}
