//! The whole configuration: where the service runs, then one section per concern, each read
//! and checked by its own file.

use std::{collections::HashMap, net::IpAddr, time::Duration};

use figment::{
    Figment,
    providers::{Format, Toml},
    value::Value,
};
use infrastructure::{persistence::DatabaseSettings, redis::RedisSettings};

use super::{
    VARIABLES,
    database::StorageSettings,
    edge::EdgeSettings,
    observability::ObservabilitySettings,
    parse::{ConfigProblems, Reader},
    providers::ProviderSettings,
    secrets::SecretSettings,
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

impl InitialFlags {
    fn read(r: &mut Reader) -> Self {
        Self {
            rule_engine: r.boolean("FEATURE_RULE_ENGINE_ENABLED", true),
            compliance_enforcement: r.boolean("FEATURE_COMPLIANCE_ENFORCEMENT_ENABLED", true),
            ai_chat: r.boolean("FEATURE_AI_CHAT_ENABLED", true),
            sms_reminders: r.boolean("FEATURE_SMS_REMINDERS_ENABLED", true),
        }
    }
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
    /// The database every query goes to.
    pub database: DatabaseSettings,
    /// Redis, when configured.
    pub redis: Option<RedisSettings>,
    /// Apply pending migrations at startup.
    pub auto_migrate: bool,
    /// The signing key, tokens, admin keys and password hashing.
    pub secrets: SecretSettings,
    /// What the HTTP edge accepts.
    pub edge: EdgeSettings,
    /// The chat model and the SMS provider.
    pub providers: ProviderSettings,
    /// Initial flag values.
    pub flags: InitialFlags,
    /// Logs, traces and metrics.
    pub observability: ObservabilitySettings,
}

/// The optional configuration file, read from the working directory.
const CONFIG_FILE: &str = "plant-texts.toml";

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
        let default_host = if environment.is_deployed() {
            "0.0.0.0"
        } else {
            "127.0.0.1"
        };
        let host = r.text_or("HOST", default_host).parse().unwrap_or_else(|_| {
            r.problem("HOST", "must be an IP address such as 127.0.0.1 or 0.0.0.0");
            IpAddr::from([127, 0, 0, 1])
        });
        let port = r.number("PORT", 8080_u16, 0, u16::MAX);
        let StorageSettings {
            database,
            redis,
            auto_migrate,
        } = StorageSettings::read(&mut r, environment);
        let secrets = SecretSettings::read(&mut r, environment);
        let edge = EdgeSettings::read(&mut r, environment);
        let providers = ProviderSettings::read(&mut r, environment);
        let flags = InitialFlags::read(&mut r);
        let observability = ObservabilitySettings::read(&mut r, environment);
        if !r.problems.is_empty() {
            return Err(ConfigProblems(r.problems));
        }
        Ok(Self {
            environment,
            host,
            port,
            database,
            redis,
            auto_migrate,
            secrets,
            edge,
            providers,
            flags,
            observability,
        })
    }
}

pub(super) const fn secs(value: u64) -> Duration {
    Duration::from_secs(value)
}

pub(super) const fn millis(value: u64) -> Duration {
    Duration::from_millis(value)
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
