//! The state of a test app: the real use cases over an in-memory SQLite database.

#![expect(
    clippy::unwrap_used,
    reason = "set-up code of the tests fails the test loudly"
)]

use std::{sync::Arc, time::Duration};

use application::{
    admin::{Administration, AdministrationPorts},
    catalog::Catalog,
    chat::{ConversationPorts, Conversations},
    flags::{FeatureFlags, Switchboard},
    gardens::{GardenPorts, Gardens},
    idempotency::Idempotency,
    identity::{Identity, IdentityPorts},
    metrics::Metrics,
    ops::{CheckHealth, StaticProbe},
    plants::{PlantPorts, Plants},
    sms::{
        InboundPorts, InboundTexts, PhoneVerification, PhoneVerificationPorts, SmsCaps, SmsOutbox,
        SmsOutboxPorts, WebhookGate,
    },
    system::StopSignal,
};
use domain::{
    ops::{CheckStatus, Dependency},
    secret::Secret,
};
use infrastructure::{
    cache::InProcessCatalogCache,
    flags::InMemoryFlags,
    persistence::{
        Database, DatabaseSettings, SeaOrmAuditLog, SeaOrmCatalogRepository,
        SeaOrmDatabaseInspector, SeaOrmFlagStore, SeaOrmIdempotencyStore, SeaOrmUnitOfWork,
        gardens::{SeaOrmComplianceAudit, SeaOrmGardenRepository, SeaOrmPlantingRepository},
        identity::{SeaOrmRefreshTokenRepository, SeaOrmTenantRepository, SeaOrmUserRepository},
        plants::{SeaOrmMessageRepository, SeaOrmUserPlantRepository},
        sms::{SeaOrmInboundSmsLog, SeaOrmSmsAccounts, SeaOrmSmsLog, SeaOrmVerificationCodes},
    },
    security::{
        Argon2Parameters, Argon2PasswordHasher, HashingLimits, JwtSettings, JwtTokenService,
        Sha256AdminKeyring,
    },
    system::{SystemClock, UuidV7Ids},
    twilio::DemoSmsSender,
};
use migration::{Migrator, MigratorTrait, seed};
use plant_texts_http::{
    ApiState, HttpSettings, Lifecycle, SmsWebhooks,
    middleware::client_ip::TrustedProxies,
    ops::metrics::{HttpMetrics, Observability},
    trace_context::TraceSampling,
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
    })
    .await
    .unwrap();
    if migrate {
        Migrator::up(database.connection(), None).await.unwrap();
        seed::run(database.connection()).await.unwrap();
    }
    let tenants = Arc::new(SeaOrmTenantRepository::new(database.clone()));
    let users = Arc::new(SeaOrmUserRepository::new(database.clone()));
    let refresh_tokens = Arc::new(SeaOrmRefreshTokenRepository::new(database.clone()));
    let unit_of_work = Arc::new(SeaOrmUnitOfWork::new(database.clone()));
    let identity = Identity::new(IdentityPorts {
        tenants: tenants.clone(),
        users: users.clone(),
        refresh_tokens,
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
        unit_of_work: unit_of_work.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
    });
    let catalog = Catalog::new(
        Arc::new(SeaOrmCatalogRepository::new(database.clone())),
        Arc::new(InProcessCatalogCache::new()),
    );
    let user_plants = Arc::new(SeaOrmUserPlantRepository::new(database.clone()));
    let plants = Plants::new(PlantPorts {
        plants: user_plants.clone(),
        catalog: catalog.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
    });
    let flags: Arc<dyn FeatureFlags> = Arc::new(InMemoryFlags::new(|_| true));
    let metric_flags = flags.clone();
    let gardens = Gardens::new(GardenPorts {
        gardens: Arc::new(SeaOrmGardenRepository::new(database.clone())),
        plantings: Arc::new(SeaOrmPlantingRepository::new(database.clone())),
        compliance: Arc::new(SeaOrmComplianceAudit::new(database.clone())),
        catalog: catalog.clone(),
        flags: flags.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
    });
    let conversations = Conversations::new(ConversationPorts {
        plants: user_plants.clone(),
        messages: Arc::new(SeaOrmMessageRepository::new(database.clone())),
        catalog: catalog.clone(),
        model: None,
        flags: flags.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
    });
    let outbox = SmsOutbox::new(SmsOutboxPorts {
        sender: Arc::new(DemoSmsSender),
        log: Arc::new(SeaOrmSmsLog::new(database.clone())),
        accounts: Arc::new(SeaOrmSmsAccounts::new(database.clone())),
        reminder_texts: Arc::new(conversations.clone()),
        status_callback: None,
        caps: SmsCaps {
            per_recipient: 20,
            platform: 10_000,
        },
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
        stop: StopSignal::new(),
    });
    let phone_verification = PhoneVerification::new(PhoneVerificationPorts {
        users: users.clone(),
        codes: Arc::new(SeaOrmVerificationCodes::new(database.clone())),
        outbox: outbox.clone(),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
    });
    let sms = SmsWebhooks {
        gate: WebhookGate::closed(),
        inbound: InboundTexts::new(InboundPorts {
            accounts: Arc::new(SeaOrmSmsAccounts::new(database.clone())),
            received: Arc::new(SeaOrmInboundSmsLog::new(database.clone())),
            plants: user_plants,
            conversations: conversations.clone(),
            clock: Arc::new(SystemClock),
        }),
        outbox,
    };
    let keys: Vec<Secret> = admin_keys.iter().map(|key| Secret::new(*key)).collect();
    let admin = Administration::new(AdministrationPorts {
        keyring: Arc::new(Sha256AdminKeyring::new(&keys)),
        audit_log: Arc::new(SeaOrmAuditLog::new(database.clone())),
        sms_log: Arc::new(SeaOrmSmsLog::new(database.clone())),
        tenants,
        users,
        flags: Switchboard::new(
            Arc::new(SeaOrmFlagStore::new(database.clone())),
            flags,
            Arc::new(SystemClock),
        ),
        compliance: Arc::new(SeaOrmComplianceAudit::new(database.clone())),
        database: Arc::new(SeaOrmDatabaseInspector::new(database.clone())),
        unit_of_work,
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
    });
    ApiState {
        health: CheckHealth::new(
            vec![
                Arc::new(StaticProbe::new(Dependency::Database, CheckStatus::Up)),
                Arc::new(StaticProbe::new(Dependency::Migrations, CheckStatus::Up)),
            ],
            Duration::from_secs(1),
        ),
        identity,
        admin,
        catalog,
        plants,
        gardens,
        conversations,
        sms,
        phone_verification,
        idempotency: Idempotency::new(
            Arc::new(SeaOrmIdempotencyStore::new(database.clone())),
            Arc::new(SystemClock),
        ),
        rate_limiter: None,
        lifecycle: Lifecycle::default(),
        observability: Observability {
            metrics: Metrics::default(),
            http: HttpMetrics::default(),
            pools: Arc::new(SeaOrmDatabaseInspector::new(database.clone())),
            flags: metric_flags,
            token: None,
            commit: "test",
        },
        settings: HttpSettings {
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
    }
}
