use std::collections::HashMap;

use super::*;

fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigProblems> {
    Settings::from_values(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<HashMap<_, _>>(),
    )
}

fn problems(pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    load(pairs)
        .expect_err("configuration should be refused")
        .0
        .into_iter()
        .map(|p| (p.variable, p.rule))
        .collect()
}

fn refused_variables(pairs: &[(&str, &str)]) -> Vec<&'static str> {
    problems(pairs).into_iter().map(|(v, _)| v).collect()
}

const ADMIN_KEY: &str = "admin-key-0123456789-abcdefghijklmnop";
const SECRET: &str = "s3cr3t-signing-key-Qw8zX1vB7nM4kL0pR6tY";

fn production() -> Vec<(&'static str, &'static str)> {
    vec![
        ("APP_ENV", "production"),
        ("DATABASE_URL", "postgres://app:pw@db:5432/plant_texts"),
        ("SECRET_KEY", SECRET),
        ("ADMIN_API_KEY", ADMIN_KEY),
        ("CORS_ORIGINS", "https://app.plant-texts.dev"),
        ("ALLOWED_HOSTS", "api.plant-texts.dev"),
    ]
}

fn production_with(
    overrides: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut pairs = production();
    pairs.retain(|(k, _)| !overrides.iter().any(|(o, _)| o == k));
    pairs.extend_from_slice(overrides);
    pairs
}

#[test]
fn development_needs_no_configuration_at_all() {
    let settings = load(&[]).unwrap();
    assert_eq!(settings.environment, Environment::Development);
    assert_eq!(settings.host.to_string(), "127.0.0.1");
    assert_eq!(settings.port, 8080);
    assert_eq!(
        settings.database.url.expose(),
        "sqlite://plant-texts.db?mode=rwc"
    );
    assert!(settings.secrets.secret_key_generated);
    assert_eq!(settings.secrets.secret_key.expose().len(), 64);
    assert_eq!(settings.observability.log_format, LogFormat::Pretty);
    assert!(settings.auto_migrate);
    assert!(settings.redis.is_none() && settings.providers.twilio.is_none());
    assert!((settings.observability.otel.sampler_ratio - 1.0).abs() < f64::EPSILON);
}

#[test]
fn the_documented_defaults_apply() {
    let settings = load(&[]).unwrap();
    assert_eq!(settings.database.pool_size, 20);
    assert_eq!(settings.database.min_connections, 2);
    assert_eq!(settings.database.acquire_timeout.as_secs(), 5);
    assert_eq!(settings.database.idle_timeout.as_secs(), 600);
    assert_eq!(settings.database.max_lifetime.as_secs(), 3600);
    assert_eq!(settings.database.statement_timeout.as_millis(), 5000);
    assert_eq!(settings.database.slow_statement_threshold.as_millis(), 200);
    assert_eq!(settings.secrets.jwt.access_ttl.as_secs(), 900);
    assert_eq!(settings.secrets.jwt.refresh_ttl.as_secs(), 2_592_000);
    assert_eq!(settings.providers.openai.model, "gpt-4o-mini");
    assert_eq!(settings.providers.openai.timeout.as_secs(), 10);
    assert_eq!(settings.providers.openai.max_attempts, 3);
    assert_eq!(settings.providers.openai.budget.as_secs(), 20);
    assert_eq!(settings.edge.max_body_bytes, 65_536);
    assert_eq!(settings.edge.request_timeout.as_secs(), 30);
    assert_eq!(settings.edge.shutdown_timeout.as_secs(), 30);
    assert!(settings.edge.rate_limit_enabled);
    assert_eq!(
        settings.flags,
        InitialFlags {
            rule_engine: true,
            compliance_enforcement: true,
            ai_chat: true,
            sms_reminders: true
        }
    );
}

#[test]
fn a_complete_production_configuration_is_accepted_with_production_defaults() {
    let settings = load(&production()).unwrap();
    assert_eq!(settings.environment, Environment::Production);
    assert_eq!(settings.host.to_string(), "0.0.0.0");
    assert_eq!(settings.observability.log_format, LogFormat::Json);
    assert!(!settings.auto_migrate);
    assert!(!settings.secrets.secret_key_generated);
    assert!((settings.observability.otel.sampler_ratio - 0.1).abs() < f64::EPSILON);
    assert_eq!(settings.edge.shutdown_grace.as_secs(), 5);
}

#[test]
fn the_shutdown_grace_is_configurable_and_bounded() {
    assert_eq!(load(&[]).unwrap().edge.shutdown_grace.as_secs(), 0);
    let mut production = production();
    production.push(("SHUTDOWN_GRACE_SECS", "12"));
    assert_eq!(load(&production).unwrap().edge.shutdown_grace.as_secs(), 12);
    for refused in ["-1", "121", "soon"] {
        assert_eq!(
            refused_variables(&[("SHUTDOWN_GRACE_SECS", refused)]),
            ["SHUTDOWN_GRACE_SECS"],
            "{refused}"
        );
    }
}

#[test]
fn production_without_configuration_lists_every_missing_variable_at_once() {
    let refused = refused_variables(&[("APP_ENV", "production")]);
    assert_eq!(
        refused,
        [
            "DATABASE_URL",
            "SECRET_KEY",
            "ADMIN_API_KEY",
            "CORS_ORIGINS",
            "ALLOWED_HOSTS"
        ]
    );
}

#[test]
fn staging_follows_the_production_rules() {
    let refused = refused_variables(&[("ENVIRONMENT", "staging")]);
    assert!(refused.contains(&"DATABASE_URL") && refused.contains(&"SECRET_KEY"));
}

#[test]
fn an_unknown_environment_is_refused() {
    assert_eq!(refused_variables(&[("APP_ENV", "prod")]), ["APP_ENV"]);
}

#[test]
fn sqlite_is_refused_in_production() {
    let problems = problems(&production_with(&[("DATABASE_URL", "sqlite://x.db")]));
    assert_eq!(
        problems,
        [(
            "DATABASE_URL",
            "must be a postgres:// URL in production".to_owned()
        )]
    );
}

#[test]
fn an_unknown_database_scheme_is_refused() {
    assert_eq!(
        refused_variables(&[("DATABASE_URL", "mysql://db/x")]),
        ["DATABASE_URL"]
    );
}

#[test]
fn a_short_secret_key_is_refused_without_echoing_it() {
    let rendered = load(&[("SECRET_KEY", "tooshort-secret")])
        .unwrap_err()
        .to_string();
    assert!(rendered.contains("SECRET_KEY: must be at least 32 characters"));
    assert!(!rendered.contains("tooshort-secret"));
}

#[test]
fn a_placeholder_secret_key_is_refused_in_production() {
    let refused = refused_variables(&production_with(&[(
        "SECRET_KEY",
        "changeme-changeme-changeme-changeme",
    )]));
    assert_eq!(refused, ["SECRET_KEY"]);
    let refused = refused_variables(&production_with(&[(
        "SECRET_KEY",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    )]));
    assert_eq!(refused, ["SECRET_KEY"]);
}

#[test]
fn every_admin_key_must_be_long_enough_and_several_are_accepted_for_rotation() {
    let refused = refused_variables(&production_with(&[(
        "ADMIN_API_KEY",
        "short,admin-key-0123456789-abcdefghijklmnop",
    )]));
    assert_eq!(refused, ["ADMIN_API_KEY"]);
    let settings = load(&production_with(&[(
        "ADMIN_API_KEY",
        "admin-key-0123456789-abcdefghijklmnop, admin-key-9876543210-abcdefghijklmnop",
    )]))
    .unwrap();
    assert_eq!(settings.secrets.admin_api_keys.len(), 2);
}

#[test]
fn a_wildcard_origin_is_allowed_only_in_development() {
    assert!(load(&[("CORS_ORIGINS", "*")]).is_ok());
    assert_eq!(
        refused_variables(&[("APP_ENV", "test"), ("CORS_ORIGINS", "*")]),
        ["CORS_ORIGINS"]
    );
    assert_eq!(
        refused_variables(&production_with(&[("CORS_ORIGINS", "*")])),
        ["CORS_ORIGINS"]
    );
}

#[test]
fn origins_must_be_exact_origins() {
    assert_eq!(
        refused_variables(&[("CORS_ORIGINS", "https://app.example.com/path")]),
        ["CORS_ORIGINS"]
    );
    let settings = load(&[(
        "CORS_ORIGINS",
        "https://a.example.com, http://localhost:3000",
    )])
    .unwrap();
    assert_eq!(
        settings.edge.cors_origins,
        ["https://a.example.com", "http://localhost:3000"]
    );
}

#[test]
fn twilio_credentials_come_all_together_or_not_at_all() {
    assert_eq!(
        refused_variables(&[("TWILIO_ACCOUNT_SID", "AC123")]),
        ["TWILIO_ACCOUNT_SID"]
    );
    let settings = load(&[
        ("TWILIO_ACCOUNT_SID", "AC123"),
        ("TWILIO_AUTH_TOKEN", "token"),
        ("TWILIO_PHONE_NUMBER", "+14155552671"),
    ])
    .unwrap();
    let twilio = settings.providers.twilio.unwrap();
    assert_eq!(twilio.phone_number.as_str(), "+14155552671");
    assert_eq!(format!("{:?}", twilio.auth_token), "[redacted]");
}

#[test]
fn the_twilio_number_must_be_e164() {
    let refused = refused_variables(&[
        ("TWILIO_ACCOUNT_SID", "AC123"),
        ("TWILIO_AUTH_TOKEN", "token"),
        ("TWILIO_PHONE_NUMBER", "415 555 2671"),
    ]);
    assert_eq!(refused, ["TWILIO_PHONE_NUMBER"]);
}

#[test]
fn twilio_in_production_needs_the_public_base_url() {
    let refused = refused_variables(&production_with(&[
        ("TWILIO_ACCOUNT_SID", "AC123"),
        ("TWILIO_AUTH_TOKEN", "token"),
        ("TWILIO_PHONE_NUMBER", "+14155552671"),
    ]));
    assert_eq!(refused, ["PUBLIC_BASE_URL"]);
    assert_eq!(
        refused_variables(&[("PUBLIC_BASE_URL", "https://x.example.com/")]),
        ["PUBLIC_BASE_URL"]
    );
}

#[test]
fn numbers_out_of_range_or_not_numbers_are_refused() {
    let problems = problems(&[
        ("PORT", "http"),
        ("DB_POOL_SIZE", "0"),
        ("MAX_BODY_BYTES", "-1"),
        ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
    ]);
    assert_eq!(
        problems,
        [
            ("PORT", "must be a number from 0 to 65535".to_owned()),
            ("DB_POOL_SIZE", "must be a number from 1 to 1000".to_owned()),
            (
                "MAX_BODY_BYTES",
                "must be a number from 1024 to 10485760".to_owned()
            ),
            (
                "OTEL_TRACES_SAMPLER_ARG",
                "must be a number from 0 to 1".to_owned()
            ),
        ]
    );
}

#[test]
fn related_limits_must_agree() {
    assert_eq!(
        refused_variables(&[("DB_POOL_SIZE", "2"), ("DB_MIN_CONNECTIONS", "5")]),
        ["DB_MIN_CONNECTIONS"]
    );
    assert_eq!(
        refused_variables(&[
            ("JWT_ACCESS_TTL_SECS", "900"),
            ("JWT_REFRESH_TTL_SECS", "600")
        ]),
        ["JWT_REFRESH_TTL_SECS"]
    );
    assert_eq!(
        refused_variables(&[("OPENAI_TIMEOUT_SECS", "30"), ("OPENAI_BUDGET_SECS", "10")]),
        ["OPENAI_BUDGET_SECS"]
    );
}

#[test]
fn booleans_accept_the_usual_spellings_and_refuse_others() {
    let settings = load(&[
        ("RATE_LIMIT_ENABLED", "off"),
        ("FEATURE_AI_CHAT_ENABLED", "0"),
        ("AUTO_MIGRATE", "no"),
    ])
    .unwrap();
    assert!(!settings.edge.rate_limit_enabled && !settings.flags.ai_chat && !settings.auto_migrate);
    assert_eq!(
        refused_variables(&[("FEATURE_RULE_ENGINE_ENABLED", "maybe")]),
        ["FEATURE_RULE_ENGINE_ENABLED"]
    );
}

#[test]
fn urls_and_addresses_are_checked() {
    let refused = refused_variables(&[
        ("HOST", "localhost"),
        ("REDIS_URL", "http://redis"),
        ("OPENAI_BASE_URL", "api.openai.com"),
        ("TWILIO_BASE_URL", "https://api.twilio.com/"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
        ("TRUSTED_PROXIES", "10.0.0.0/8, not-a-cidr"),
    ]);
    assert_eq!(
        refused,
        [
            "HOST",
            "REDIS_URL",
            "TRUSTED_PROXIES",
            "OPENAI_BASE_URL",
            "TWILIO_BASE_URL",
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        ]
    );
}

#[test]
fn redis_settings_are_built_when_a_url_is_given() {
    let settings = load(&[
        ("REDIS_URL", "redis://127.0.0.1:6379"),
        ("REDIS_TIMEOUT_MS", "100"),
    ])
    .unwrap();
    let redis = settings.redis.unwrap();
    assert_eq!(redis.timeout.as_millis(), 100);
    assert_eq!(redis.connect_retries, 5);
    assert_eq!(format!("{:?}", redis.url), "[redacted]");
}

#[test]
fn log_settings_are_checked() {
    assert_eq!(refused_variables(&[("LOG_FORMAT", "xml")]), ["LOG_FORMAT"]);
    assert_eq!(refused_variables(&[("RUST_LOG", "info,[[[")]), ["RUST_LOG"]);
    assert_eq!(
        load(&[("LOG_FORMAT", "json")])
            .unwrap()
            .observability
            .log_format,
        LogFormat::Json
    );
}

#[test]
fn a_short_metrics_token_is_refused() {
    assert_eq!(
        refused_variables(&[("METRICS_TOKEN", "short")]),
        ["METRICS_TOKEN"]
    );
}

#[test]
fn the_otlp_protocol_is_http_protobuf_unless_grpc_is_asked_for() {
    assert_eq!(
        load(&[("APP_ENV", "test")])
            .unwrap()
            .observability
            .otel
            .protocol,
        OtlpProtocol::HttpProtobuf
    );
    assert_eq!(
        load(&[("APP_ENV", "test"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")])
            .unwrap()
            .observability
            .otel
            .protocol,
        OtlpProtocol::Grpc
    );
    assert_eq!(
        refused_variables(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"]
    );
}

#[test]
fn variable_names_are_case_insensitive_as_figment_lowercases_them() {
    let settings = load(&[("port", "9000"), ("app_env", "test")]).unwrap();
    assert_eq!(settings.port, 9000);
    assert_eq!(settings.environment, Environment::Test);
}

#[test]
fn the_problem_report_has_one_line_per_problem() {
    let rendered = load(&[("APP_ENV", "production")]).unwrap_err().to_string();
    assert!(rendered.starts_with("invalid configuration (5 problem(s)):\n"));
    assert_eq!(rendered.lines().count(), 6);
    assert!(rendered.contains("  - DATABASE_URL: is required in production\n"));
}

#[test]
fn debug_output_of_the_settings_never_shows_secrets() {
    let settings = load(&production_with(&[(
        "OPENAI_API_KEY",
        "sk-live-abcdefghijklmnopqrstuvwxyz",
    )]))
    .unwrap();
    let debug = format!("{settings:?}");
    for secret in [
        SECRET,
        ADMIN_KEY,
        "sk-live-abcdefghijklmnopqrstuvwxyz",
        "app:pw",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked");
    }
}

#[test]
fn access_tokens_live_at_most_an_hour_and_sessions_have_an_absolute_end() {
    assert_eq!(
        refused_variables(&[("JWT_ACCESS_TTL_SECS", "3601")]),
        ["JWT_ACCESS_TTL_SECS"]
    );
    let settings = load(&[("JWT_ACCESS_TTL_SECS", "3600")]).unwrap();
    assert_eq!(settings.secrets.jwt.access_ttl.as_secs(), 3600);
    assert_eq!(
        settings.secrets.jwt.session_lifetime.as_secs(),
        2_592_000,
        "30 days by default"
    );
    let shorter = load(&[("REFRESH_ABSOLUTE_TTL_SECS", "86400")]).unwrap();
    assert_eq!(shorter.secrets.jwt.session_lifetime.as_secs(), 86_400);
}

#[test]
fn password_hashing_is_bounded_by_default_and_configurable() {
    let defaults = load(&[]).unwrap();
    assert!(defaults.secrets.hash_concurrency >= 1);
    assert_eq!(defaults.secrets.hash_queue, 64);
    let set = load(&[("HASH_CONCURRENCY", "3"), ("HASH_QUEUE", "0")]).unwrap();
    assert_eq!(
        (set.secrets.hash_concurrency, set.secrets.hash_queue),
        (3, 0)
    );
    assert_eq!(
        refused_variables(&[("HASH_CONCURRENCY", "0")]),
        ["HASH_CONCURRENCY"]
    );
}

#[test]
fn sms_caps_default_to_twenty_per_recipient_and_ten_thousand_in_all() {
    let defaults = load(&[]).unwrap();
    assert_eq!(
        (
            defaults.providers.sms_daily_limit_per_user,
            defaults.providers.sms_daily_limit
        ),
        (20, 10_000)
    );
    assert_eq!(
        refused_variables(&[("SMS_DAILY_LIMIT_PER_USER", "0")]),
        ["SMS_DAILY_LIMIT_PER_USER"]
    );
}

mod documented_variables {
    use std::collections::BTreeSet;

    use super::*;

    fn variables() -> BTreeSet<String> {
        VARIABLES.iter().map(|name| (*name).to_owned()).collect()
    }

    /// The names in the first column of docs/configuration.md's tables.
    fn in_configuration_md() -> BTreeSet<String> {
        include_str!("../../../../docs/configuration.md")
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split_once('`').map(|(name, _)| name.to_owned()))
            .filter(|name| {
                name.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            })
            .collect()
    }

    /// The names `.env.example` sets or shows commented out.
    fn in_env_example() -> BTreeSet<String> {
        include_str!("../../../../.env.example")
            .lines()
            .map(|line| line.trim_start_matches('#').trim())
            .filter_map(|line| line.split_once('='))
            .map(|(name, _)| name.trim().to_owned())
            .filter(|name| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            })
            .collect()
    }

    #[test]
    fn every_variable_read_is_listed_and_every_listed_one_is_read() {
        // Both the defaults and a production configuration, which asks for more.
        let _ = load(&[]);
        let _ = load(&production());
        let _ = load(&[("APP_ENV", ""), ("ENVIRONMENT", "test")]);
        let asked = parse::asked::names();
        assert_eq!(
            asked,
            variables(),
            "read (left) and VARIABLES (right) differ"
        );
    }

    #[test]
    fn every_listed_variable_is_documented_and_every_documented_one_is_listed() {
        assert_eq!(
            in_configuration_md(),
            variables(),
            "docs/configuration.md (left) and VARIABLES (right) differ"
        );
    }

    #[test]
    fn every_listed_variable_is_in_the_env_example_and_nothing_else_is() {
        assert_eq!(
            in_env_example(),
            variables(),
            ".env.example (left) and VARIABLES (right) differ"
        );
    }
}
