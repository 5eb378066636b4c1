//! Wiring: adapters into use cases into the HTTP app, then serving until told to stop.

use std::{future::Future, net::TcpListener, sync::Arc, time::Duration};

use actix_web::{HttpServer, dev::Server};
use application::{
    admin::{Administration, AdministrationPorts},
    catalog::{Catalog, ports::CatalogCache},
    chat::{ChatModel, ConversationPorts, Conversations},
    flags::{FeatureFlags, Flag, FlagValues, Switchboard},
    gardens::{GardenPorts, Gardens},
    idempotency::Idempotency,
    identity::{Identity, IdentityPorts, ports::HasherError},
    metrics::Metrics,
    ops::{CheckHealth, EnsureSchema, HealthProbe, Retention, SchemaCheckError, StaticProbe},
    plants::{PlantPorts, Plants},
    ratelimit::{RateLimitStore, RateLimiter},
    sms::{
        InboundPorts, InboundTexts, PhoneVerification, PhoneVerificationPorts, ReminderPorts,
        Reminders, SmsCaps, SmsOutbox, SmsOutboxPorts, SmsSender, WebhookGate,
    },
    system::{Clock, StopSignal},
};
use domain::ops::{CheckStatus, Dependency};
use http_api::{
    ApiState, HttpSettings, Lifecycle, SmsWebhooks, build_app,
    middleware::client_ip::TrustedProxies,
    ops::metrics::{HttpMetrics, Observability},
    trace_context::TraceSampling,
};
use infrastructure::{
    cache::{InProcessCatalogCache, RedisCatalogCache},
    flags::InMemoryFlags,
    openai::{OpenAiChatModel, OpenAiError, OpenAiSettings},
    persistence::{
        Database, DatabaseProbe, MigrationsProbe, PersistenceError, SeaOrmAuditLog,
        SeaOrmCatalogRepository, SeaOrmDatabaseInspector, SeaOrmFlagStore, SeaOrmIdempotencyStore,
        SeaOrmRetentionStore, SeaOrmSchemaMigrator, SeaOrmUnitOfWork,
        gardens::{SeaOrmComplianceAudit, SeaOrmGardenRepository, SeaOrmPlantingRepository},
        identity::{SeaOrmRefreshTokenRepository, SeaOrmTenantRepository, SeaOrmUserRepository},
        plants::{SeaOrmMessageRepository, SeaOrmUserPlantRepository},
        sms::{
            SeaOrmInboundSmsLog, SeaOrmReminderQueue, SeaOrmSmsAccounts, SeaOrmSmsLog,
            SeaOrmVerificationCodes,
        },
    },
    ratelimit::{InProcessRateLimitStore, RedisRateLimitStore},
    redis::{RedisError, RedisPool, RedisProbe},
    security::{
        Argon2Parameters, Argon2PasswordHasher, HashingLimits, JwtSettings, JwtTokenService,
        Sha256AdminKeyring,
    },
    system::{SystemClock, UuidV7Ids},
    twilio::{
        DemoSmsSender, TwilioError, TwilioSettings, TwilioSignatureVerifier, TwilioSmsSender,
    },
};

use crate::{
    config::{Environment, Settings},
    workers::Workers,
};

/// The commit the binary was built from, for `build_info`: PLANT_TEXTS_COMMIT at build time
/// (the container build sets it), else `unknown`.
const BUILD_COMMIT: &str = match option_env!("PLANT_TEXTS_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

/// Longest a call to Twilio's API may take.
const TWILIO_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one health probe may take before it counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// How often an instance re-reads the stored feature flags: a change made through another
/// instance applies here within this period (SPEC §4: within 5 s).
pub const FLAG_REFRESH_INTERVAL: Duration = Duration::from_secs(2);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be reached.
    #[error(transparent)]
    Database(#[from] PersistenceError),
    /// The schema does not match this binary.
    #[error(transparent)]
    Schema(#[from] SchemaCheckError),
    /// The reference data could not be seeded.
    #[error("the reference data could not be seeded")]
    Seed(#[source] migration::DbErr),
    /// The stored feature flags could not be initialised or read.
    #[error("the feature flags could not be read")]
    Flags(#[source] application::store::StoreError),
    /// The password hasher rejected its parameters.
    #[error(transparent)]
    Hasher(#[from] HasherError),
    /// The chat model client could not be built.
    #[error(transparent)]
    ChatModel(#[from] OpenAiError),
    /// The Twilio client could not be built.
    #[error(transparent)]
    Twilio(#[from] TwilioError),
    /// The Redis URL is unusable.
    #[error(transparent)]
    Redis(#[from] RedisError),
    /// The address could not be bound.
    #[error("could not listen on {address}")]
    Bind {
        /// host:port.
        address: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A built, bound server, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    lifecycle: Lifecycle,
    shutdown_grace: Duration,
    database: Database,
    reminders: Reminders,
    outbox: SmsOutbox,
    retention: Retention,
    switchboard: Switchboard,
    stop: StopSignal,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Applies the pending migrations to the configured database and returns: `plant-texts
/// migrate`, the one-shot step a deployment runs before its instances start with AUTO_MIGRATE
/// off. A database newer than this binary is refused, as at startup.
///
/// # Errors
/// The database cannot be reached, a migration fails, or the database is ahead of the binary.
pub async fn migrate(settings: &Settings) -> Result<(), StartupError> {
    let database = Database::connect(&settings.database).await?;
    let migrator = Arc::new(SeaOrmSchemaMigrator::new(database.clone()));
    let applied = EnsureSchema::new(migrator).run(true).await;
    if let Err(error) = database.close().await {
        tracing::warn!(%error, "database pool did not close cleanly");
    }
    applied?;
    tracing::info!("migrations applied");
    Ok(())
}

impl Application {
    /// Connects to the database, checks (and, when allowed, migrates) the schema, seeds the
    /// reference data in development and test, connects to Redis when configured, and binds the
    /// listening socket.
    ///
    /// # Errors
    /// [`StartupError`] says which step failed.
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        let metrics = Metrics::default();
        let database = Database::connect(&settings.database)
            .await?
            .recording_into(metrics.clone());
        let migrator = Arc::new(SeaOrmSchemaMigrator::new(database.clone()));
        EnsureSchema::new(migrator)
            .run(settings.auto_migrate)
            .await?;
        if matches!(
            settings.environment,
            Environment::Development | Environment::Test
        ) {
            let report = migration::seed::run(database.connection())
                .await
                .map_err(StartupError::Seed)?;
            tracing::info!(?report, "reference data seeded");
        }

        let redis = match &settings.redis {
            Some(redis_settings) => {
                let redis = RedisPool::new(redis_settings)?;
                if let Err(error) = redis.wait_until_ready(redis_settings.connect_retries).await {
                    // Redis is optional: the service starts degraded and the pool reconnects later.
                    tracing::warn!(%error, "Redis unreachable at startup; continuing degraded");
                }
                Some(redis)
            }
            None => None,
        };
        let redis_probe: Arc<dyn HealthProbe> = match &redis {
            Some(redis) => Arc::new(RedisProbe::new(redis.clone())),
            None => Arc::new(StaticProbe::new(Dependency::Redis, CheckStatus::Disabled)),
        };
        let catalog_cache: Arc<dyn CatalogCache> = match &redis {
            Some(redis) => Arc::new(RedisCatalogCache::new(redis.clone(), "plant-texts:")),
            None => Arc::new(InProcessCatalogCache::new()),
        };
        let initial_flags = initial_flags(settings);
        let flags = Arc::new(InMemoryFlags::new(|flag| initial_flags[&flag]));
        let switchboard = switchboard(&database, flags.clone());
        let stored_flags = switchboard
            .start(&initial_flags)
            .await
            .map_err(StartupError::Flags)?;
        tracing::info!(?stored_flags, "feature flags");
        let openai_mode = if settings.openai.api_key.is_some() && settings.flags.ai_chat {
            CheckStatus::Live
        } else {
            CheckStatus::Fallback
        };
        let twilio_mode = if settings.twilio.is_some() {
            CheckStatus::Live
        } else {
            CheckStatus::Demo
        };
        let health = CheckHealth::new(
            vec![
                Arc::new(DatabaseProbe::new(database.clone())),
                Arc::new(MigrationsProbe::new(database.clone())),
                redis_probe,
                Arc::new(StaticProbe::new(Dependency::OpenAi, openai_mode)),
                Arc::new(StaticProbe::new(Dependency::Twilio, twilio_mode)),
            ],
            PROBE_TIMEOUT,
        );

        let (identity, admin) = identity_use_cases(&database, settings, switchboard.clone())?;
        let (catalog, plants, conversations) =
            plant_use_cases(&database, settings, catalog_cache, flags.clone())?;
        let conversations = conversations.recording_into(metrics.clone());
        let gardens = garden_use_cases(&database, catalog.clone(), flags.clone())
            .recording_into(metrics.clone());
        let sms = sms_use_cases(
            &database,
            settings,
            conversations.clone(),
            flags.clone(),
            sms_sender(settings)?,
            Arc::new(SystemClock),
            &metrics,
        );
        let lifecycle = Lifecycle::default();
        let deployed = matches!(
            settings.environment,
            Environment::Staging | Environment::Production
        );
        let state = ApiState {
            health,
            identity,
            admin,
            catalog,
            plants,
            gardens,
            conversations,
            sms: sms.webhooks,
            phone_verification: sms.phone_verification,
            idempotency: Idempotency::new(
                Arc::new(SeaOrmIdempotencyStore::new(database.clone())),
                Arc::new(SystemClock),
            ),
            rate_limiter: settings.rate_limit_enabled.then(|| {
                RateLimiter::new(
                    redis.as_ref().map(|redis| -> Arc<dyn RateLimitStore> {
                        Arc::new(RedisRateLimitStore::new(redis.clone(), "plant-texts:"))
                    }),
                    Arc::new(InProcessRateLimitStore::new()),
                    Arc::new(SystemClock),
                )
                .recording_into(metrics.clone())
            }),
            lifecycle: lifecycle.clone(),
            observability: Observability {
                metrics,
                http: HttpMetrics::default(),
                pools: Arc::new(SeaOrmDatabaseInspector::new(database.clone())),
                flags,
                token: settings.metrics_token.clone(),
                commit: BUILD_COMMIT,
            },
            settings: HttpSettings {
                version: env!("CARGO_PKG_VERSION"),
                max_body_bytes: settings.max_body_bytes,
                expose_internal_errors: settings.environment == Environment::Development,
                public_base_url: settings.public_base_url.clone(),
                request_timeout: settings.request_timeout,
                allowed_hosts: deployed.then(|| settings.allowed_hosts.clone()),
                hsts: deployed,
                cors_origins: settings.cors_origins.clone(),
                trusted_proxies: TrustedProxies::parse(&settings.trusted_proxies),
                trace_sampling: if settings.otel.endpoint.is_some() {
                    TraceSampling::exporting(settings.otel.sampler_ratio)
                } else {
                    TraceSampling::OFF
                },
            },
        };

        let address = format!("{}:{}", settings.host, settings.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                address: address.clone(),
                source,
            })?
            .port();
        let server = HttpServer::new(move || build_app(state.clone(), |_| {}))
            .listen(listener)
            .map_err(|source| StartupError::Bind { address, source })?
            .disable_signals()
            .shutdown_timeout(settings.shutdown_timeout.as_secs())
            .client_request_timeout(Duration::from_secs(5))
            .client_disconnect_timeout(Duration::from_secs(1))
            .run();
        tracing::info!(host = %settings.host, port, environment = settings.environment.as_str(), "listening");
        let retention = retention_use_case(&database, Arc::new(SystemClock));
        Ok(Self {
            port,
            server,
            lifecycle,
            shutdown_grace: settings.shutdown_grace,
            database,
            reminders: sms.reminders,
            outbox: sms.outbox,
            retention,
            switchboard,
            stop: sms.stop,
        })
    }

    /// The bound port (useful when the configuration asked for port 0).
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// Serves, and runs the reminder and SMS-retry workers, until `shutdown` completes; then
    /// shuts down gracefully: readiness turns 503 and the listener goes on serving for
    /// SHUTDOWN_GRACE_SECS (so that a load balancer sees the 503 and stops sending), then no new
    /// connections are accepted, in-flight requests and worker runs finish (requests up to
    /// SHUTDOWN_TIMEOUT_SECS), and the database pool closes.
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.run(shutdown, true).await
    }

    /// Serves like [`Self::run_until_stopped`] without the background workers: for tests that
    /// drive the workers' use cases themselves, on a clock of their own, and must not have this
    /// instance take their rows.
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn serve_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.run(shutdown, false).await
    }

    async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        with_workers: bool,
    ) -> std::io::Result<()> {
        // The flags follow the store in every mode: tests with two instances rely on it.
        let flag_refresh = tokio::spawn(refresh_flags(self.switchboard, self.stop.clone()));
        let workers = with_workers.then(|| {
            Workers::start(
                self.reminders,
                self.outbox,
                self.retention,
                self.stop.clone(),
            )
        });
        let handle = self.server.handle();
        let lifecycle = self.lifecycle.clone();
        let grace = self.shutdown_grace;
        tokio::spawn(async move {
            shutdown.await;
            lifecycle.begin_shutdown();
            tracing::info!(
                grace_secs = grace.as_secs(),
                "shutdown requested; readiness answers 503 until the listener closes"
            );
            tokio::time::sleep(grace).await;
            tracing::info!("draining");
            handle.stop(true).await;
        });
        let served = self.server.await;
        if let Some(workers) = workers {
            workers.stop().await;
        }
        self.stop.raise();
        flag_refresh.abort();
        served?;
        if let Err(error) = self.database.close().await {
            tracing::warn!(%error, "database pool did not close cleanly");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// The identity and administration use cases over the database and the configured secrets.
///
/// # Errors
/// [`StartupError::Hasher`] when the argon2 parameters are out of range.
pub fn identity_use_cases(
    database: &Database,
    settings: &Settings,
    flags: Switchboard,
) -> Result<(Identity, Administration), StartupError> {
    let tenants = Arc::new(SeaOrmTenantRepository::new(database.clone()));
    let users = Arc::new(SeaOrmUserRepository::new(database.clone()));
    let refresh_tokens = Arc::new(SeaOrmRefreshTokenRepository::new(database.clone()));
    let clock = Arc::new(SystemClock);
    let ids = Arc::new(UuidV7Ids);
    let unit_of_work = Arc::new(SeaOrmUnitOfWork::new(database.clone()));
    let identity = Identity::new(IdentityPorts {
        tenants: tenants.clone(),
        users: users.clone(),
        refresh_tokens,
        hasher: Arc::new(Argon2PasswordHasher::new(
            Argon2Parameters::OWASP,
            HashingLimits {
                concurrency: settings.hash_concurrency,
                queue: settings.hash_queue,
            },
        )?),
        tokens: Arc::new(JwtTokenService::new(JwtSettings {
            secret: settings.secret_key.clone(),
            issuer: settings.jwt.issuer.clone(),
            audience: settings.jwt.audience.clone(),
            access_ttl: settings.jwt.access_ttl,
            refresh_ttl: settings.jwt.refresh_ttl,
            session_lifetime: settings.jwt.session_lifetime,
        })),
        unit_of_work: unit_of_work.clone(),
        clock: clock.clone(),
        ids: ids.clone(),
    });
    let admin = Administration::new(AdministrationPorts {
        keyring: Arc::new(Sha256AdminKeyring::new(&settings.admin_api_keys)),
        audit_log: Arc::new(SeaOrmAuditLog::new(database.clone())),
        sms_log: Arc::new(SeaOrmSmsLog::new(database.clone())),
        tenants,
        users,
        flags,
        compliance: Arc::new(SeaOrmComplianceAudit::new(database.clone())),
        database: Arc::new(SeaOrmDatabaseInspector::new(database.clone())),
        unit_of_work,
        clock,
        ids,
    });
    Ok((identity, admin))
}

/// The catalog, plant and conversation use cases over the database, a catalog cache and the
/// feature flags; the chat model is OpenAI when a key is configured.
///
/// # Errors
/// [`StartupError::ChatModel`] when the OpenAI client cannot be built.
pub fn plant_use_cases(
    database: &Database,
    settings: &Settings,
    catalog_cache: Arc<dyn CatalogCache>,
    flags: Arc<dyn FeatureFlags>,
) -> Result<(Catalog, Plants, Conversations), StartupError> {
    let catalog = Catalog::new(
        Arc::new(SeaOrmCatalogRepository::new(database.clone())),
        catalog_cache,
    );
    let user_plants = Arc::new(SeaOrmUserPlantRepository::new(database.clone()));
    let clock = Arc::new(SystemClock);
    let ids = Arc::new(UuidV7Ids);
    let model: Option<Arc<dyn ChatModel>> = match &settings.openai.api_key {
        Some(api_key) => Some(Arc::new(OpenAiChatModel::new(OpenAiSettings {
            api_key: api_key.clone(),
            base_url: settings.openai.base_url.clone(),
            model: settings.openai.model.clone(),
            max_tokens: settings.openai.max_tokens,
            temperature: settings.openai.temperature,
            attempt_timeout: settings.openai.timeout,
            max_attempts: settings.openai.max_attempts,
            budget: settings.openai.budget,
            initial_backoff: Duration::from_millis(500),
        })?)),
        None => None,
    };
    let plants = Plants::new(PlantPorts {
        plants: user_plants.clone(),
        catalog: catalog.clone(),
        clock: clock.clone(),
        ids: ids.clone(),
    });
    let conversations = Conversations::new(ConversationPorts {
        plants: user_plants,
        messages: Arc::new(SeaOrmMessageRepository::new(database.clone())),
        catalog: catalog.clone(),
        model,
        flags,
        clock,
        ids,
    });
    Ok((catalog, plants, conversations))
}

/// The initial value of every feature flag, from FEATURE_*: stored on first start, then the
/// stored values rule.
#[must_use]
pub fn initial_flags(settings: &Settings) -> FlagValues {
    Flag::ALL
        .into_iter()
        .map(|flag| {
            let enabled = match flag {
                Flag::RuleEngine => settings.flags.rule_engine,
                Flag::ComplianceEnforcement => settings.flags.compliance_enforcement,
                Flag::AiChat => settings.flags.ai_chat,
                Flag::SmsReminders => settings.flags.sms_reminders,
            };
            (flag, enabled)
        })
        .collect()
}

/// The feature flags `flags` of this instance, kept in step with those stored in `database`.
#[must_use]
pub fn switchboard(database: &Database, flags: Arc<dyn FeatureFlags>) -> Switchboard {
    Switchboard::new(
        Arc::new(SeaOrmFlagStore::new(database.clone())),
        flags,
        Arc::new(SystemClock),
    )
}

/// Re-reads the stored flags every [`FLAG_REFRESH_INTERVAL`] until `stop` is raised; a failed
/// read keeps the values in memory.
async fn refresh_flags(switchboard: Switchboard, stop: StopSignal) {
    let mut ticks = tokio::time::interval(FLAG_REFRESH_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !stop.is_raised() {
        ticks.tick().await;
        if let Err(error) = switchboard.reload().await {
            tracing::warn!(%error, "feature flags could not be refreshed; keeping the current values");
        }
    }
}

/// The garden use cases over the database, the catalog and the feature flags.
#[must_use]
pub fn garden_use_cases(
    database: &Database,
    catalog: Catalog,
    flags: Arc<dyn FeatureFlags>,
) -> Gardens {
    Gardens::new(GardenPorts {
        gardens: Arc::new(SeaOrmGardenRepository::new(database.clone())),
        plantings: Arc::new(SeaOrmPlantingRepository::new(database.clone())),
        compliance: Arc::new(SeaOrmComplianceAudit::new(database.clone())),
        catalog,
        flags,
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
    })
}

/// The SMS provider: Twilio when its credentials are configured, else demo mode.
///
/// # Errors
/// [`StartupError::Twilio`] when the HTTP client cannot be built.
pub fn sms_sender(settings: &Settings) -> Result<Arc<dyn SmsSender>, StartupError> {
    Ok(match &settings.twilio {
        Some(twilio) => Arc::new(TwilioSmsSender::new(TwilioSettings {
            base_url: settings.twilio_base_url.clone(),
            account_sid: twilio.account_sid.clone(),
            auth_token: twilio.auth_token.clone(),
            from: twilio.phone_number.clone(),
            timeout: TWILIO_TIMEOUT,
        })?),
        None => Arc::new(DemoSmsSender),
    })
}

/// The SMS channel's use cases.
#[derive(Debug, Clone)]
pub struct SmsUseCases {
    /// Behind Twilio's webhooks.
    pub webhooks: SmsWebhooks,
    /// The outbox, also run by the retry worker.
    pub outbox: SmsOutbox,
    /// Run by the reminders worker.
    pub reminders: Reminders,
    /// Verifying the number of an account.
    pub phone_verification: PhoneVerification,
    /// Raised at shutdown: the SMS workers stop after their current item.
    pub stop: StopSignal,
}

/// The SMS channel over the database, sending through `sender`, on `clock`'s time, counting
/// into `metrics`.
#[must_use]
pub fn sms_use_cases(
    database: &Database,
    settings: &Settings,
    conversations: Conversations,
    flags: Arc<dyn FeatureFlags>,
    sender: Arc<dyn SmsSender>,
    clock: Arc<dyn Clock>,
    metrics: &Metrics,
) -> SmsUseCases {
    let stop = StopSignal::new();
    let accounts = Arc::new(SeaOrmSmsAccounts::new(database.clone()));
    let outbox = SmsOutbox::new(SmsOutboxPorts {
        sender,
        log: Arc::new(SeaOrmSmsLog::new(database.clone())),
        accounts: accounts.clone(),
        reminder_texts: Arc::new(conversations.clone()),
        status_callback: settings
            .public_base_url
            .as_ref()
            .map(|base| format!("{base}/api/v2/webhooks/twilio/status")),
        caps: SmsCaps {
            per_recipient: settings.sms_daily_limit_per_user,
            platform: settings.sms_daily_limit,
        },
        clock: clock.clone(),
        ids: Arc::new(UuidV7Ids),
        stop: stop.clone(),
    })
    .recording_into(metrics.clone());
    let gate = match &settings.twilio {
        Some(twilio) => WebhookGate::new(
            Arc::new(TwilioSignatureVerifier::new(twilio.auth_token.clone())),
            twilio.account_sid.clone(),
        ),
        None => WebhookGate::closed(),
    };
    let inbound = InboundTexts::new(InboundPorts {
        accounts,
        received: Arc::new(SeaOrmInboundSmsLog::new(database.clone())),
        plants: Arc::new(SeaOrmUserPlantRepository::new(database.clone())),
        conversations: conversations.clone(),
        clock: clock.clone(),
    });
    let phone_verification = PhoneVerification::new(PhoneVerificationPorts {
        users: Arc::new(SeaOrmUserRepository::new(database.clone())),
        codes: Arc::new(SeaOrmVerificationCodes::new(database.clone())),
        outbox: outbox.clone(),
        clock: clock.clone(),
        ids: Arc::new(UuidV7Ids),
    });
    let reminders = Reminders::new(ReminderPorts {
        queue: Arc::new(SeaOrmReminderQueue::new(database.clone())),
        outbox: outbox.clone(),
        flags,
        clock,
    });
    SmsUseCases {
        phone_verification,
        webhooks: SmsWebhooks {
            gate,
            inbound,
            outbox: outbox.clone(),
        },
        outbox,
        reminders,
        stop,
    }
}

/// The daily retention job over the database, on `clock`'s time.
#[must_use]
pub fn retention_use_case(database: &Database, clock: Arc<dyn Clock>) -> Retention {
    Retention::new(Arc::new(SeaOrmRetentionStore::new(database.clone())), clock)
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            _ = interrupt => {},
            () = terminate => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
