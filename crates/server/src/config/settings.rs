use std::{collections::HashMap, net::IpAddr, time::Duration};

use domain::{phone::PhoneNumber, secret::Secret};
use figment::{
    Figment,
    providers::{Format, Toml},
    value::Value,
};
use infrastructure::{
    persistence::DatabaseSettings, redis::RedisSettings, security::HashingLimits,
};

use super::{
    VARIABLES,
    parse::{ConfigProblems, Reader, is_cidr, is_http_url, is_origin},
};

/// Where the service runs; decides defaults and how strict the rules are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// A developer's machine: SQLite, pretty logs, generated secrets allowed.
    Development,
    /// Automated tests.
    Test,
    /// Pre-production: production rules.
    Staging,
    /// Production.
    Production,
}

impl Environment {
    /// Whether production rules apply (required secrets, PostgreSQL, exact hosts and origins).
    #[must_use]
    pub const fn is_deployed(self) -> bool {
        matches!(self, Self::Staging | Self::Production)
    }

    /// The name used in `APP_ENV` and in logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable, coloured.
    Pretty,
}

/// Token settings.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// Lifetime of access tokens.
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens.
    pub refresh_ttl: Duration,
    /// A session's absolute lifetime: its refresh family ends this long after the login,
    /// whatever the rotations.
    pub session_lifetime: Duration,
    /// `iss` claim.
    pub issuer: String,
    /// `aud` claim.
    pub audience: String,
}

/// Chat model settings.
#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// No key: template replies only.
    pub api_key: Option<Secret>,
    /// Base URL of the API.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// Time limit of one attempt.
    pub timeout: Duration,
    /// Attempts per reply.
    pub max_attempts: u32,
    /// Time limit of all attempts together.
    pub budget: Duration,
    /// Longest reply, in tokens.
    pub max_tokens: u32,
    /// Sampling temperature, 0-2.
    pub temperature: f32,
}

/// Twilio credentials; present only when all three are set.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    /// Account SID.
    pub account_sid: String,
    /// Auth token; signs webhooks.
    pub auth_token: Secret,
    /// The number messages are sent from.
    pub phone_number: PhoneNumber,
}

/// Initial values of the feature flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitialFlags {
    /// Garden rule engine.
    pub rule_engine: bool,
    /// Compliance enforcement (off: log only).
    pub compliance_enforcement: bool,
    /// AI chat (off: templates).
    pub ai_chat: bool,
    /// SMS reminders worker.
    pub sms_reminders: bool,
}

/// How spans travel to the OTLP endpoint (OTEL_EXPORTER_OTLP_PROTOCOL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// `grpc`, usually port 4317.
    Grpc,
    /// `http/protobuf` (the default), usually port 4318; spans go to `<endpoint>/v1/traces`.
    HttpProtobuf,
}

/// OpenTelemetry settings.
#[derive(Debug, Clone)]
pub struct OtelSettings {
    /// OTLP endpoint; no export when unset.
    pub endpoint: Option<String>,
    /// How spans travel to it.
    pub protocol: OtlpProtocol,
    /// `service.name`.
    pub service_name: String,
    /// Parent-based sampling ratio.
    pub sampler_ratio: f64,
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the service runs.
    pub environment: Environment,
    /// Bind address.
    pub host: IpAddr,
    /// Bind port; 0 picks a free one.
    pub port: u16,
    /// Primary database.
    pub database: DatabaseSettings,
    /// Redis, when configured.
    pub redis: Option<RedisSettings>,
    /// JWT signing key.
    pub secret_key: Secret,
    /// Whether [`Settings::secret_key`] was generated for this run (development only).
    pub secret_key_generated: bool,
    /// Token settings.
    pub jwt: JwtSettings,
    /// Outbound texts per account and per number over a rolling 24 h (`SMS_DAILY_LIMIT_PER_USER`).
    pub sms_daily_limit_per_user: u64,
    /// Outbound texts of the platform over a rolling 24 h (`SMS_DAILY_LIMIT`).
    pub sms_daily_limit: u64,
    /// Password hashes running at once (`HASH_CONCURRENCY`).
    pub hash_concurrency: usize,
    /// Password hashes waiting for a slot before requests are refused (`HASH_QUEUE`).
    pub hash_queue: usize,
    /// Platform admin keys; several while one is rotated out.
    pub admin_api_keys: Vec<Secret>,
    /// Exact allowed CORS origins.
    pub cors_origins: Vec<String>,
    /// Accepted `Host` values (staging/production).
    pub allowed_hosts: Vec<String>,
    /// CIDRs whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// Chat model.
    pub openai: OpenAiSettings,
    /// SMS provider; `None` is demo mode.
    pub twilio: Option<TwilioSettings>,
    /// Base URL of the Twilio API.
    pub twilio_base_url: String,
    /// The public URL Twilio calls and signs.
    pub public_base_url: Option<String>,
    /// Whether rate limits apply.
    pub rate_limit_enabled: bool,
    /// Initial flag values.
    pub flags: InitialFlags,
    /// Tracing export.
    pub otel: OtelSettings,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter directives.
    pub log_filter: String,
    /// Bearer token for `/metrics`.
    pub metrics_token: Option<Secret>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Per-request time limit.
    pub request_timeout: Duration,
    /// Time given to in-flight requests at shutdown.
    pub shutdown_timeout: Duration,
    /// Time readiness answers 503 after SIGTERM while the listener still serves, so that a load
    /// balancer stops sending before the port closes.
    pub shutdown_grace: Duration,
    /// Apply pending migrations at startup.
    pub auto_migrate: bool,
}

/// Secret keys that appear in examples and tutorials; refused in staging/production.
const PLACEHOLDER_SECRETS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "placeholder",
    "your-secret",
    "example",
    "dev-secret",
    "insecure",
];

/// The optional configuration file, read from the working directory.
const CONFIG_FILE: &str = "plant-texts.toml";

const DEVELOPMENT_DATABASE_URL: &str = "sqlite://plant-texts.db?mode=rwc";

fn looks_like_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    PLACEHOLDER_SECRETS.iter().any(|p| lower.contains(p))
        || value
            .chars()
            .collect::<std::collections::HashSet<_>>()
            .len()
            < 8
}

impl Settings {
    /// Loads the configuration: `plant-texts.toml` in the working directory (if present), then
    /// the environment, which wins. Environment values are taken as raw text, so that a secret
    /// that happens to look like a number or a list is never reinterpreted.
    ///
    /// # Errors
    /// [`ConfigProblems`] listing every problem found.
    pub fn load() -> Result<Self, ConfigProblems> {
        let file: HashMap<String, Value> = Figment::from(Toml::file(CONFIG_FILE))
            .extract()
            .map_err(|error| {
                ConfigProblems(vec![super::ConfigProblem {
                    variable: CONFIG_FILE,
                    rule: format!("must be a flat table of variables ({})", error.kind),
                }])
            })?;
        let mut values: HashMap<String, String> = file
            .into_iter()
            .filter_map(|(key, value)| {
                scalar_text(&value).map(|text| (key.to_ascii_uppercase(), text))
            })
            .collect();
        values.extend(
            std::env::vars()
                .map(|(key, value)| (key.to_ascii_uppercase(), value))
                .filter(|(key, _)| VARIABLES.contains(&key.as_str())),
        );
        Self::from_values(values)
    }

    /// Parses the configuration from raw variables (names in any case).
    ///
    /// # Errors
    /// [`ConfigProblems`] listing every problem found.
    #[expect(
        clippy::too_many_lines,
        reason = "one flat pass over every variable reads best"
    )]
    pub fn from_values(values: HashMap<String, String>) -> Result<Self, ConfigProblems> {
        let mut r = Reader::new(values);

        let environment = match r
            .text("APP_ENV")
            .or_else(|| r.text("ENVIRONMENT"))
            .as_deref()
        {
            None | Some("development") => Environment::Development,
            Some("test") => Environment::Test,
            Some("staging") => Environment::Staging,
            Some("production") => Environment::Production,
            Some(_) => {
                r.problem(
                    "APP_ENV",
                    "must be one of development, test, staging, production",
                );
                Environment::Development
            }
        };
        let deployed = environment.is_deployed();

        let default_host = if deployed { "0.0.0.0" } else { "127.0.0.1" };
        let host = r.text_or("HOST", default_host).parse().unwrap_or_else(|_| {
            r.problem("HOST", "must be an IP address such as 127.0.0.1 or 0.0.0.0");
            IpAddr::from([127, 0, 0, 1])
        });
        let port = r.number("PORT", 8080_u16, 0, u16::MAX);

        // Database.
        let database_url = match r.text("DATABASE_URL") {
            Some(url) if deployed && !is_postgres(&url) => {
                r.problem(
                    "DATABASE_URL",
                    format!("must be a postgres:// URL in {}", environment.as_str()),
                );
                url
            }
            Some(url) if !is_postgres(&url) && !url.starts_with("sqlite:") => {
                r.problem("DATABASE_URL", "must start with sqlite: or postgres://");
                url
            }
            Some(url) => url,
            None if deployed => {
                r.problem(
                    "DATABASE_URL",
                    format!("is required in {}", environment.as_str()),
                );
                String::new()
            }
            None => DEVELOPMENT_DATABASE_URL.to_owned(),
        };
        let pool_size = r.number("DB_POOL_SIZE", 20_u32, 1, 1000);
        let min_connections = r.number("DB_MIN_CONNECTIONS", 2_u32, 0, 1000);
        if min_connections > pool_size {
            r.problem("DB_MIN_CONNECTIONS", "must not exceed DB_POOL_SIZE");
        }
        let database = DatabaseSettings {
            url: Secret::new(database_url),
            pool_size,
            min_connections,
            acquire_timeout: secs(r.number("DB_ACQUIRE_TIMEOUT_SECS", 5, 1, 600)),
            idle_timeout: secs(r.number("DB_IDLE_TIMEOUT_SECS", 600, 1, 86_400)),
            max_lifetime: secs(r.number("DB_MAX_LIFETIME_SECS", 3600, 1, 86_400)),
            statement_timeout: millis(r.number("DB_STATEMENT_TIMEOUT_MS", 5000, 1, 3_600_000)),
            slow_statement_threshold: millis(r.number("DB_SLOW_QUERY_MS", 200, 1, 3_600_000)),
        };

        // Redis.
        let redis_url = r.text("REDIS_URL");
        if redis_url
            .as_deref()
            .is_some_and(|url| !url.starts_with("redis://") && !url.starts_with("rediss://"))
        {
            r.problem("REDIS_URL", "must start with redis:// or rediss://");
        }
        let connect_retries = r.number("REDIS_CONNECT_RETRIES", 5_u32, 0, 20);
        let redis_timeout = millis(r.number("REDIS_TIMEOUT_MS", 250, 1, 60_000));
        let redis = redis_url.map(|url| RedisSettings {
            url: Secret::new(url),
            connect_retries,
            timeout: redis_timeout,
        });

        // Secrets.
        let (secret_key, secret_key_generated) = match r.secret("SECRET_KEY") {
            Some(key) => {
                if key.expose().chars().count() < 32 {
                    r.problem("SECRET_KEY", "must be at least 32 characters");
                } else if deployed && looks_like_placeholder(key.expose()) {
                    r.problem("SECRET_KEY", "must not be a placeholder or example value");
                }
                (key, false)
            }
            None if deployed => {
                r.problem(
                    "SECRET_KEY",
                    format!("is required in {}", environment.as_str()),
                );
                (Secret::new(String::new()), false)
            }
            None => (Secret::new(random_key()), true),
        };
        // Access tokens live at most an hour: revocation reaches them at the next request, but a
        // stolen one is worth less the sooner it ends (SPEC §5.3).
        let access_ttl = r.number("JWT_ACCESS_TTL_SECS", 900_u64, 60, 3_600);
        let refresh_ttl = r.number("JWT_REFRESH_TTL_SECS", 2_592_000_u64, 60, 31_536_000);
        if refresh_ttl <= access_ttl {
            r.problem(
                "JWT_REFRESH_TTL_SECS",
                "must be longer than JWT_ACCESS_TTL_SECS",
            );
        }
        let session_lifetime = r.number("REFRESH_ABSOLUTE_TTL_SECS", 2_592_000_u64, 60, 31_536_000);
        let jwt = JwtSettings {
            access_ttl: secs(access_ttl),
            refresh_ttl: secs(refresh_ttl),
            session_lifetime: secs(session_lifetime),
            issuer: r.text_or("JWT_ISSUER", "plant-texts"),
            audience: r.text_or("JWT_AUDIENCE", "plant-texts-api"),
        };
        let defaults = HashingLimits::per_cpu();
        let hash_concurrency = r.number("HASH_CONCURRENCY", defaults.concurrency, 1, 1024);
        let hash_queue = r.number("HASH_QUEUE", defaults.queue, 0, 100_000);
        let sms_daily_limit_per_user = r.number("SMS_DAILY_LIMIT_PER_USER", 20_u64, 1, 10_000);
        let sms_daily_limit = r.number("SMS_DAILY_LIMIT", 10_000_u64, 1, 100_000_000);
        let admin_api_keys: Vec<Secret> = r
            .list("ADMIN_API_KEY")
            .into_iter()
            .map(Secret::new)
            .collect();
        if admin_api_keys.is_empty() && deployed {
            r.problem(
                "ADMIN_API_KEY",
                format!("is required in {}", environment.as_str()),
            );
        }
        if admin_api_keys
            .iter()
            .any(|key| key.expose().chars().count() < 32)
        {
            r.problem("ADMIN_API_KEY", "every key must be at least 32 characters");
        }

        // Edge.
        let cors_origins = r.list("CORS_ORIGINS");
        if cors_origins.is_empty() && deployed {
            r.problem(
                "CORS_ORIGINS",
                format!("is required in {}", environment.as_str()),
            );
        }
        if cors_origins.iter().any(|o| o == "*") {
            if environment != Environment::Development {
                r.problem("CORS_ORIGINS", "`*` is allowed only in development");
            }
        } else if cors_origins.iter().any(|o| !is_origin(o)) {
            r.problem(
                "CORS_ORIGINS",
                "every origin must be scheme://host[:port] without a path",
            );
        }
        let allowed_hosts = r.list("ALLOWED_HOSTS");
        if allowed_hosts.is_empty() && deployed {
            r.problem(
                "ALLOWED_HOSTS",
                format!("is required in {}", environment.as_str()),
            );
        }
        let trusted_proxies = r.list("TRUSTED_PROXIES");
        if trusted_proxies.iter().any(|cidr| !is_cidr(cidr)) {
            r.problem(
                "TRUSTED_PROXIES",
                "every entry must be an IP address or CIDR such as 10.0.0.0/8",
            );
        }

        // OpenAI.
        let openai_base_url = r.text_or("OPENAI_BASE_URL", "https://api.openai.com/v1");
        if !is_http_url(&openai_base_url) {
            r.problem(
                "OPENAI_BASE_URL",
                "must be an http(s) URL without a trailing slash",
            );
        }
        let openai_timeout = r.number("OPENAI_TIMEOUT_SECS", 10_u64, 1, 300);
        let openai_budget = r.number("OPENAI_BUDGET_SECS", 20_u64, 1, 600);
        if openai_budget < openai_timeout {
            r.problem("OPENAI_BUDGET_SECS", "must be at least OPENAI_TIMEOUT_SECS");
        }
        let openai = OpenAiSettings {
            api_key: r.secret("OPENAI_API_KEY"),
            base_url: openai_base_url,
            model: r.text_or("OPENAI_MODEL", "gpt-4o-mini"),
            timeout: secs(openai_timeout),
            max_attempts: r.number("OPENAI_MAX_ATTEMPTS", 3, 1, 10),
            budget: secs(openai_budget),
            max_tokens: r.number("OPENAI_MAX_TOKENS", 200, 1, 4096),
            temperature: r.number("OPENAI_TEMPERATURE", 0.8_f32, 0.0, 2.0),
        };

        // Twilio.
        let sid = r.text("TWILIO_ACCOUNT_SID");
        let token = r.secret("TWILIO_AUTH_TOKEN");
        let number = r.text("TWILIO_PHONE_NUMBER");
        let twilio = match (sid, token, number) {
            (Some(account_sid), Some(auth_token), Some(number)) => {
                match PhoneNumber::parse(&number) {
                    Ok(phone_number) => Some(TwilioSettings {
                        account_sid,
                        auth_token,
                        phone_number,
                    }),
                    Err(_) => {
                        r.problem(
                            "TWILIO_PHONE_NUMBER",
                            "must be an E.164 number such as +14155552671",
                        );
                        None
                    }
                }
            }
            (None, None, None) => None,
            _ => {
                r.problem(
                    "TWILIO_ACCOUNT_SID",
                    "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER must be set together, or none of them (demo mode)",
                );
                None
            }
        };
        let twilio_base_url = r.text_or("TWILIO_BASE_URL", "https://api.twilio.com");
        if !is_http_url(&twilio_base_url) {
            r.problem(
                "TWILIO_BASE_URL",
                "must be an http(s) URL without a trailing slash",
            );
        }
        let public_base_url = r.text("PUBLIC_BASE_URL");
        if public_base_url
            .as_deref()
            .is_some_and(|url| !is_http_url(url))
        {
            r.problem("PUBLIC_BASE_URL", "must be an http(s) origin, optionally with a path prefix, without a trailing slash");
        }
        if twilio.is_some() && public_base_url.is_none() && deployed {
            r.problem(
                "PUBLIC_BASE_URL",
                "is required when Twilio is configured (webhook signatures are computed over it)",
            );
        }

        // Flags and switches.
        let rate_limit_enabled = r.boolean("RATE_LIMIT_ENABLED", true);
        let flags = InitialFlags {
            rule_engine: r.boolean("FEATURE_RULE_ENGINE_ENABLED", true),
            compliance_enforcement: r.boolean("FEATURE_COMPLIANCE_ENFORCEMENT_ENABLED", true),
            ai_chat: r.boolean("FEATURE_AI_CHAT_ENABLED", true),
            sms_reminders: r.boolean("FEATURE_SMS_REMINDERS_ENABLED", true),
        };

        // Observability.
        let otel_endpoint = r.text("OTEL_EXPORTER_OTLP_ENDPOINT");
        if otel_endpoint
            .as_deref()
            .is_some_and(|url| !is_http_url(url))
        {
            r.problem("OTEL_EXPORTER_OTLP_ENDPOINT", "must be an http(s) URL");
        }
        let default_ratio = if environment == Environment::Production {
            0.1
        } else {
            1.0
        };
        let protocol = match r.text("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
            None | Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
            Some("grpc") => OtlpProtocol::Grpc,
            Some(_) => {
                r.problem(
                    "OTEL_EXPORTER_OTLP_PROTOCOL",
                    "must be grpc or http/protobuf",
                );
                OtlpProtocol::HttpProtobuf
            }
        };
        let otel = OtelSettings {
            endpoint: otel_endpoint,
            protocol,
            service_name: r.text_or("OTEL_SERVICE_NAME", "plant-texts"),
            sampler_ratio: r.number("OTEL_TRACES_SAMPLER_ARG", default_ratio, 0.0, 1.0),
        };
        let log_format = match r.text("LOG_FORMAT").as_deref() {
            None if deployed => LogFormat::Json,
            None => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(_) => {
                r.problem("LOG_FORMAT", "must be json or pretty");
                LogFormat::Json
            }
        };
        let log_filter = r.text_or("RUST_LOG", "info,sqlx=warn,sea_orm=warn");
        if tracing_subscriber::EnvFilter::try_new(&log_filter).is_err() {
            r.problem(
                "RUST_LOG",
                "must be valid tracing filter directives such as info,sqlx=warn",
            );
        }
        let metrics_token = r.secret("METRICS_TOKEN");
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.expose().chars().count() < 16)
        {
            r.problem("METRICS_TOKEN", "must be at least 16 characters");
        }

        // Limits.
        let max_body_bytes = r.number("MAX_BODY_BYTES", 65_536_usize, 1024, 10 * 1024 * 1024);
        let request_timeout = secs(r.number("REQUEST_TIMEOUT_SECS", 30, 1, 600));
        let shutdown_timeout = secs(r.number("SHUTDOWN_TIMEOUT_SECS", 30, 1, 600));
        let shutdown_grace =
            secs(r.number("SHUTDOWN_GRACE_SECS", if deployed { 5 } else { 0 }, 0, 120));
        let auto_migrate = r.boolean("AUTO_MIGRATE", !deployed);

        if !r.problems.is_empty() {
            return Err(ConfigProblems(r.problems));
        }
        Ok(Self {
            environment,
            host,
            port,
            database,
            redis,
            secret_key,
            secret_key_generated,
            jwt,
            hash_concurrency,
            hash_queue,
            sms_daily_limit_per_user,
            sms_daily_limit,
            admin_api_keys,
            cors_origins,
            allowed_hosts,
            trusted_proxies,
            openai,
            twilio,
            twilio_base_url,
            public_base_url,
            rate_limit_enabled,
            flags,
            otel,
            log_format,
            log_filter,
            metrics_token,
            max_body_bytes,
            request_timeout,
            shutdown_timeout,
            shutdown_grace,
            auto_migrate,
        })
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

const fn secs(value: u64) -> Duration {
    Duration::from_secs(value)
}

const fn millis(value: u64) -> Duration {
    Duration::from_millis(value)
}

/// A random 64-character key for development runs without SECRET_KEY.
fn random_key() -> String {
    use rand::{Rng as _, distr::Alphanumeric};
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(char::from)
        .collect()
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(_, text) => Some(text.clone()),
        Value::Char(_, c) => Some(c.to_string()),
        Value::Bool(_, b) => Some(b.to_string()),
        Value::Num(_, number) => number
            .to_u128()
            .map(|n| n.to_string())
            .or_else(|| number.to_i128().map(|n| n.to_string()))
            .or_else(|| number.to_f64().map(|n| n.to_string())),
        Value::Empty(..) | Value::Dict(..) | Value::Array(..) => None,
    }
}
