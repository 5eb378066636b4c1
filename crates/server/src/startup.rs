//! Wiring: adapters into use cases into the HTTP app, then serving until told to stop.

use std::{future::Future, net::TcpListener, sync::Arc, time::Duration};

use actix_web::{HttpServer, dev::Server};
use application::{
    chat::ChatModel,
    compose::{Adapters, RateLimitStores, Tunables, compose},
    flags::{Flag, FlagValues, Switchboard},
    identity::ports::HasherError,
    metrics::Metrics,
    ops::{EnsureSchema, HealthProbe, Retention, SchemaCheckError, StaticProbe},
    ratelimit::RateLimitStore,
    sms::{Reminders, SmsCaps, SmsOutbox, SmsSender, WebhookGate},
    system::StopSignal,
};
use domain::ops::{CheckStatus, Dependency};
use http_api::{
    ApiState, HttpSettings, Lifecycle, MetricsAccess, build_app, client_ip::TrustedProxies,
    trace_context::TraceSampling,
};
use infrastructure::{
    cache::{InProcessCatalogCache, RedisCatalogCache},
    flags::InMemoryFlags,
    openai::{OpenAiChatModel, OpenAiError, OpenAiSettings},
    persistence::{
        Database, DatabaseProbe, MigrationsProbe, PersistenceError, SeaOrmSchemaMigrator, stores,
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

/// The first pause between two attempts at OpenAI; it doubles after each.
const OPENAI_INITIAL_BACKOFF: Duration = Duration::from_millis(500);

/// Longest a client may take to send a request's head before it is answered 408.
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest a closing connection is given to shut down cleanly.
const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// What every Redis key of this service starts with, so that it can share a Redis.
const KEY_PREFIX: &str = "plant-texts:";

/// How often an instance re-reads the stored feature flags: a change made through another
/// instance applies here within this period (SPEC §4: within 5 s).
pub const FLAG_REFRESH_INTERVAL: Duration = Duration::from_secs(2);

/// How often an instance on SQLite reads the catalog revision (PostgreSQL announces changes
/// instead): an operator's edit of the catalog is served within this period.
pub const CATALOG_POLL_INTERVAL: Duration = Duration::from_secs(1);

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
    background: Background,
}

/// What runs beside the HTTP server: the workers and the flag refresh, and their stop signal.
struct Background {
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
        prepare_schema(&database, settings).await?;
        let redis = connect_redis(settings).await?;
        let use_cases = compose(
            adapters(&database, redis.as_ref(), settings, metrics)?,
            tunables(settings),
        );
        let stored_flags = use_cases
            .switchboard
            .start(&initial_flags(settings))
            .await
            .map_err(StartupError::Flags)?;
        tracing::info!(?stored_flags, "feature flags");
        let background = Background {
            reminders: use_cases.reminders.clone(),
            outbox: use_cases.outbox.clone(),
            retention: use_cases.retention.clone(),
            switchboard: use_cases.switchboard.clone(),
            stop: use_cases.stop.clone(),
        };
        let state = ApiState::new(
            use_cases,
            http_settings(settings),
            MetricsAccess {
                token: settings.observability.metrics_token.clone(),
                commit: BUILD_COMMIT,
            },
        );
        let lifecycle = state.lifecycle.clone();
        let (server, port) = serve(state, settings)?;
        tracing::info!(host = %settings.host, port, environment = settings.environment.as_str(), "listening");
        Ok(Self {
            port,
            server,
            lifecycle,
            shutdown_grace: settings.edge.shutdown_grace,
            database,
            background,
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
        let Background {
            reminders,
            outbox,
            retention,
            switchboard,
            stop,
        } = self.background;
        let flag_refresh = tokio::spawn(refresh_flags(switchboard, stop.clone()));
        let database = self.database.clone();
        let change_feed =
            tokio::spawn(async move { database.follow_changes(CATALOG_POLL_INTERVAL).await });
        let workers =
            with_workers.then(|| Workers::start(reminders, outbox, retention, stop.clone()));
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
        stop.raise();
        flag_refresh.abort();
        // The feed's listener has a connection of its own; stop it with the rest.
        change_feed.abort();
        let _cancelled = change_feed.await;
        served?;
        if let Err(error) = self.database.close().await {
            tracing::warn!(%error, "database pool did not close cleanly");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Checks the schema against this binary, migrating when AUTO_MIGRATE allows, and seeds the
/// reference data in development and test.
async fn prepare_schema(database: &Database, settings: &Settings) -> Result<(), StartupError> {
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
    Ok(())
}

/// The Redis pool when REDIS_URL is set. Redis is optional: when it does not answer at startup
/// the service starts degraded and the pool reconnects later.
///
/// # Errors
/// [`StartupError::Redis`] when the URL is unusable.
async fn connect_redis(settings: &Settings) -> Result<Option<RedisPool>, StartupError> {
    let Some(redis_settings) = &settings.redis else {
        return Ok(None);
    };
    let redis = RedisPool::new(redis_settings)?;
    if let Err(error) = redis.wait_until_ready(redis_settings.connect_retries).await {
        tracing::warn!(%error, "Redis unreachable at startup; continuing degraded");
    }
    Ok(Some(redis))
}

/// The production adapter of every port: the database's stores, Redis when configured, the
/// providers when their credentials are, and the system clock — the only one outside tests,
/// shared by every use case. Tests replace single fields (the clock, the SMS sender) before
/// [`compose`].
///
/// # Errors
/// [`StartupError`] when the argon2 parameters are out of range or a provider's client cannot
/// be built.
pub fn adapters(
    database: &Database,
    redis: Option<&RedisPool>,
    settings: &Settings,
    metrics: Metrics,
) -> Result<Adapters, StartupError> {
    let initial_flags = initial_flags(settings);
    Ok(Adapters {
        stores: stores(database),
        catalog_cache: match redis {
            Some(redis) => Arc::new(RedisCatalogCache::new(redis.clone(), KEY_PREFIX)),
            None => Arc::new(InProcessCatalogCache::new()),
        },
        hasher: Arc::new(Argon2PasswordHasher::new(
            Argon2Parameters::OWASP,
            HashingLimits {
                concurrency: settings.secrets.hash_concurrency,
                queue: settings.secrets.hash_queue,
            },
        )?),
        tokens: Arc::new(JwtTokenService::new(JwtSettings {
            secret: settings.secrets.secret_key.clone(),
            issuer: settings.secrets.jwt.issuer.clone(),
            audience: settings.secrets.jwt.audience.clone(),
            access_ttl: settings.secrets.jwt.access_ttl,
            refresh_ttl: settings.secrets.jwt.refresh_ttl,
            session_lifetime: settings.secrets.jwt.session_lifetime,
        })),
        admin_keyring: Arc::new(Sha256AdminKeyring::new(&settings.secrets.admin_api_keys)),
        chat_model: chat_model(settings)?,
        sms_sender: sms_sender(settings)?,
        webhook_gate: match &settings.providers.twilio {
            Some(twilio) => WebhookGate::new(
                Arc::new(TwilioSignatureVerifier::new(twilio.auth_token.clone())),
                twilio.account_sid.clone(),
            ),
            None => WebhookGate::closed(),
        },
        flags: Arc::new(InMemoryFlags::new(|flag| initial_flags[&flag])),
        rate_limits: settings.edge.rate_limit_enabled.then(|| RateLimitStores {
            shared: redis.map(|redis| -> Arc<dyn RateLimitStore> {
                Arc::new(RedisRateLimitStore::new(redis.clone(), KEY_PREFIX))
            }),
            local: Arc::new(InProcessRateLimitStore::new()),
        }),
        health_probes: health_probes(database, redis, settings),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Ids),
        metrics,
    })
}

/// The numbers the use cases take from the configuration.
#[must_use]
pub fn tunables(settings: &Settings) -> Tunables {
    Tunables {
        sms_caps: SmsCaps {
            per_recipient: settings.providers.sms_daily_limit_per_user,
            platform: settings.providers.sms_daily_limit,
        },
        sms_status_callback: settings
            .providers
            .public_base_url
            .as_ref()
            .map(|base| format!("{base}/api/v2/webhooks/twilio/status")),
        probe_timeout: PROBE_TIMEOUT,
    }
}

/// What `/health` asks: the database and its migrations, Redis, and whether OpenAI and Twilio
/// are live or stood in for.
fn health_probes(
    database: &Database,
    redis: Option<&RedisPool>,
    settings: &Settings,
) -> Vec<Arc<dyn HealthProbe>> {
    let redis_probe: Arc<dyn HealthProbe> = match redis {
        Some(redis) => Arc::new(RedisProbe::new(redis.clone())),
        None => Arc::new(StaticProbe::new(Dependency::Redis, CheckStatus::Disabled)),
    };
    let openai_mode = if settings.providers.openai.api_key.is_some() && settings.flags.ai_chat {
        CheckStatus::Live
    } else {
        CheckStatus::Fallback
    };
    let twilio_mode = if settings.providers.twilio.is_some() {
        CheckStatus::Live
    } else {
        CheckStatus::Demo
    };
    vec![
        Arc::new(DatabaseProbe::new(database.clone())),
        Arc::new(MigrationsProbe::new(database.clone())),
        redis_probe,
        Arc::new(StaticProbe::new(Dependency::OpenAi, openai_mode)),
        Arc::new(StaticProbe::new(Dependency::Twilio, twilio_mode)),
    ]
}

/// What the HTTP layer takes from the configuration.
fn http_settings(settings: &Settings) -> HttpSettings {
    let deployed = matches!(
        settings.environment,
        Environment::Staging | Environment::Production
    );
    HttpSettings {
        version: env!("CARGO_PKG_VERSION"),
        max_body_bytes: settings.edge.max_body_bytes,
        expose_internal_errors: settings.environment == Environment::Development,
        public_base_url: settings.providers.public_base_url.clone(),
        request_timeout: settings.edge.request_timeout,
        allowed_hosts: deployed.then(|| settings.edge.allowed_hosts.clone()),
        hsts: deployed,
        cors_origins: settings.edge.cors_origins.clone(),
        trusted_proxies: TrustedProxies::parse(&settings.edge.trusted_proxies),
        trace_sampling: if settings.observability.otel.endpoint.is_some() {
            TraceSampling::exporting(settings.observability.otel.sampler_ratio)
        } else {
            TraceSampling::OFF
        },
    }
}

/// Binds HOST:PORT and builds the HTTP server over `state`; returns it with the bound port.
fn serve(state: ApiState, settings: &Settings) -> Result<(Server, u16), StartupError> {
    let address = format!("{}:{}", settings.host, settings.port);
    let bind_error = |source| StartupError::Bind {
        address: address.clone(),
        source,
    };
    let listener = TcpListener::bind(&address).map_err(bind_error)?;
    let port = listener.local_addr().map_err(bind_error)?.port();
    let server = HttpServer::new(move || build_app(state.clone(), |_| {}))
        // Lets a queued password hash see that its client has gone (SPEC §5.3).
        .on_connect(http_api::client_presence::remember_socket)
        .listen(listener)
        .map_err(bind_error)?
        .disable_signals()
        .shutdown_timeout(settings.edge.shutdown_timeout.as_secs())
        .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
        .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
        .run();
    Ok((server, port))
}

/// The initial value of every feature flag, from FEATURE_*: stored on first start, then the
/// stored values rule.
#[must_use]
fn initial_flags(settings: &Settings) -> FlagValues {
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

/// The chat model: OpenAI when a key is configured, else `None` (template replies).
///
/// # Errors
/// [`StartupError::ChatModel`] when the OpenAI client cannot be built.
fn chat_model(settings: &Settings) -> Result<Option<Arc<dyn ChatModel>>, StartupError> {
    let Some(api_key) = &settings.providers.openai.api_key else {
        return Ok(None);
    };
    Ok(Some(Arc::new(OpenAiChatModel::new(OpenAiSettings {
        api_key: api_key.clone(),
        base_url: settings.providers.openai.base_url.clone(),
        model: settings.providers.openai.model.clone(),
        max_tokens: settings.providers.openai.max_tokens,
        temperature: settings.providers.openai.temperature,
        attempt_timeout: settings.providers.openai.timeout,
        max_attempts: settings.providers.openai.max_attempts,
        budget: settings.providers.openai.budget,
        initial_backoff: OPENAI_INITIAL_BACKOFF,
    })?)))
}

/// The SMS provider: Twilio when its credentials are configured, else demo mode.
///
/// # Errors
/// [`StartupError::Twilio`] when the HTTP client cannot be built.
fn sms_sender(settings: &Settings) -> Result<Arc<dyn SmsSender>, StartupError> {
    Ok(match &settings.providers.twilio {
        Some(twilio) => Arc::new(TwilioSmsSender::new(TwilioSettings {
            base_url: settings.providers.twilio_base_url.clone(),
            account_sid: twilio.account_sid.clone(),
            auth_token: twilio.auth_token.clone(),
            from: twilio.phone_number.clone(),
            timeout: TWILIO_TIMEOUT,
        })?),
        None => Arc::new(DemoSmsSender),
    })
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
