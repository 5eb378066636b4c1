//! Configuration: built-in defaults < optional `plant-texts.toml` < environment variables.
//!
//! Every variable is read as text and parsed into [`Settings`] in one pass that collects every
//! problem, so that a bad deployment learns all it must fix at once. Problems name the variable
//! and the rule it broke, never the value (it may be a secret).

mod database;
mod edge;
mod observability;
mod parse;
mod providers;
mod secrets;
mod settings;

pub use database::StorageSettings;
pub use edge::EdgeSettings;
pub use observability::{LogFormat, ObservabilitySettings, OtelSettings, OtlpProtocol};
pub use parse::{ConfigProblem, ConfigProblems};
pub use providers::{OpenAiSettings, ProviderSettings, TwilioSettings};
pub use secrets::{JwtSettings, SecretSettings};
pub use settings::{Environment, InitialFlags, Settings};

/// The exit status for a bad configuration (`EX_CONFIG` from sysexits.h).
pub const EXIT_CONFIG: i32 = 78;

/// Every variable the service reads, in the order of docs/configuration.md.
pub const VARIABLES: &[&str] = &[
    "APP_ENV",
    "ENVIRONMENT",
    "HOST",
    "PORT",
    "DATABASE_URL",
    "DB_POOL_SIZE",
    "DB_MIN_CONNECTIONS",
    "DB_ACQUIRE_TIMEOUT_SECS",
    "DB_IDLE_TIMEOUT_SECS",
    "DB_MAX_LIFETIME_SECS",
    "DB_STATEMENT_TIMEOUT_MS",
    "DB_SLOW_QUERY_MS",
    "AUTH_CACHE_TTL_MS",
    "REDIS_URL",
    "REDIS_CONNECT_RETRIES",
    "REDIS_TIMEOUT_MS",
    "SECRET_KEY",
    "JWT_ACCESS_TTL_SECS",
    "JWT_REFRESH_TTL_SECS",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "REFRESH_ABSOLUTE_TTL_SECS",
    "HASH_CONCURRENCY",
    "HASH_QUEUE",
    "SMS_DAILY_LIMIT_PER_USER",
    "SMS_DAILY_LIMIT",
    "ADMIN_API_KEY",
    "CORS_ORIGINS",
    "ALLOWED_HOSTS",
    "TRUSTED_PROXIES",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "OPENAI_TIMEOUT_SECS",
    "OPENAI_MAX_ATTEMPTS",
    "OPENAI_BUDGET_SECS",
    "OPENAI_MAX_TOKENS",
    "OPENAI_TEMPERATURE",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_PHONE_NUMBER",
    "TWILIO_BASE_URL",
    "PUBLIC_BASE_URL",
    "RATE_LIMIT_ENABLED",
    "FEATURE_RULE_ENGINE_ENABLED",
    "FEATURE_COMPLIANCE_ENFORCEMENT_ENABLED",
    "FEATURE_AI_CHAT_ENABLED",
    "FEATURE_SMS_REMINDERS_ENABLED",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_SAMPLER_ARG",
    "LOG_FORMAT",
    "RUST_LOG",
    "METRICS_TOKEN",
    "MAX_BODY_BYTES",
    "REQUEST_TIMEOUT_SECS",
    "SHUTDOWN_TIMEOUT_SECS",
    "SHUTDOWN_GRACE_SECS",
    "AUTO_MIGRATE",
];

#[cfg(test)]
mod tests;
