//! `plant-texts doctor` (`cargo xtask doctor`): the configuration and every dependency checked
//! now, printed as a table; a non-zero exit when anything fails. Details never hold a secret or
//! a connection string: the probes' details are written for `/health`, which is public.

use std::{fmt::Write as _, sync::Arc, time::Duration};

use application::ops::HealthProbe;
use domain::ops::CheckStatus;
use infrastructure::{
    persistence::{Database, DatabaseProbe, MigrationsProbe, backend_name},
    redis::{RedisPool, RedisProbe},
};

use crate::config::Settings;

/// How long one connectivity check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was checked.
    pub check: &'static str,
    /// Whether it may be deployed as it is.
    pub healthy: bool,
    /// The verdict in a word: ok, FAIL, disabled, live, demo, templates.
    pub verdict: String,
    /// A short explanation without secrets.
    pub detail: String,
}

impl Finding {
    fn new(check: &'static str, healthy: bool, verdict: &str, detail: impl Into<String>) -> Self {
        Self {
            check,
            healthy,
            verdict: verdict.to_owned(),
            detail: detail.into(),
        }
    }

    fn from_probe(check: &'static str, status: CheckStatus, detail: Option<String>) -> Self {
        let healthy = !matches!(status, CheckStatus::Down);
        let verdict = if healthy { status.as_str() } else { "FAIL" };
        Self::new(check, healthy, verdict, detail.unwrap_or_default())
    }
}

/// Checks the configuration read from the environment, then what it points at.
pub async fn diagnose() -> Vec<Finding> {
    match Settings::load() {
        Ok(settings) => diagnose_settings(&settings).await,
        Err(problems) => vec![Finding::new(
            "configuration",
            false,
            "FAIL",
            problems.to_string().trim().replace('\n', "; "),
        )],
    }
}

/// Checks what `settings` point at: database, migrations, Redis, the OTLP endpoint, and the
/// modes of the SMS and chat providers.
pub async fn diagnose_settings(settings: &Settings) -> Vec<Finding> {
    let mut findings = vec![Finding::new(
        "configuration",
        true,
        "ok",
        format!("APP_ENV={}", settings.environment.as_str()),
    )];
    let backend = backend_name(settings.database.url.expose());
    match tokio::time::timeout(CHECK_TIMEOUT, Database::connect(&settings.database)).await {
        Ok(Ok(database)) => {
            for (check, probe) in [
                (
                    "database",
                    Arc::new(DatabaseProbe::new(database.clone())) as Arc<dyn HealthProbe>,
                ),
                (
                    "migrations",
                    Arc::new(MigrationsProbe::new(database.clone())),
                ),
            ] {
                let result = probe.probe().await;
                let mut finding = Finding::from_probe(check, result.status, result.detail.clone());
                if check == "database" && finding.detail.is_empty() {
                    finding.detail = backend.to_owned();
                }
                // Pending migrations stop an instance from starting unless it applies them.
                if check == "migrations"
                    && result.status == CheckStatus::Degraded
                    && !settings.auto_migrate
                {
                    finding.healthy = false;
                    finding.verdict = "FAIL".to_owned();
                    finding
                        .detail
                        .push_str(" and AUTO_MIGRATE is off: run `plant-texts migrate`");
                }
                findings.push(finding);
            }
            let _ = database.close().await;
        }
        Ok(Err(_)) | Err(_) => {
            // The driver's message may quote the address it was given: not repeated here.
            findings.push(Finding::new(
                "database",
                false,
                "FAIL",
                format!("{backend}: cannot connect within {CHECK_TIMEOUT:?}"),
            ));
            findings.push(Finding::new("migrations", false, "FAIL", "no database"));
        }
    }
    findings.push(match &settings.redis {
        None => Finding::new(
            "redis",
            true,
            "disabled",
            "REDIS_URL unset: limits and caches in process",
        ),
        Some(redis) => match RedisPool::new(redis) {
            Ok(pool) => {
                let result = RedisProbe::new(pool).probe().await;
                Finding::from_probe("redis", result.status, result.detail)
            }
            Err(_) => Finding::new("redis", false, "FAIL", "REDIS_URL is not usable"),
        },
    });
    findings.push(otlp_finding(settings.observability.otel.endpoint.as_deref()).await);
    findings.push(match &settings.providers.twilio {
        Some(_) => Finding::new("twilio", true, "live", "texts are sent through Twilio"),
        None => Finding::new(
            "twilio",
            true,
            "demo",
            "no credentials: texts are logged and stored, not sent",
        ),
    });
    findings.push(if settings.providers.openai.api_key.is_some() {
        Finding::new(
            "openai",
            true,
            "live",
            format!("model {}", settings.providers.openai.model),
        )
    } else {
        Finding::new(
            "openai",
            true,
            "templates",
            "no key: replies come from the personalities' templates",
        )
    });
    findings
}

/// Whether the OTLP endpoint accepts a connection (its host and port only are tried).
async fn otlp_finding(endpoint: Option<&str>) -> Finding {
    let Some(endpoint) = endpoint else {
        return Finding::new(
            "otlp",
            true,
            "disabled",
            "OTEL_EXPORTER_OTLP_ENDPOINT unset: no traces exported",
        );
    };
    let without_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let authority = without_scheme.split('/').next().unwrap_or_default();
    let address = if authority.contains(':') {
        authority.to_owned()
    } else if endpoint.starts_with("https://") {
        format!("{authority}:443")
    } else {
        format!("{authority}:80")
    };
    match tokio::time::timeout(CHECK_TIMEOUT, tokio::net::TcpStream::connect(&address)).await {
        Ok(Ok(_)) => Finding::new("otlp", true, "ok", format!("{address} accepts connections")),
        Ok(Err(error)) => Finding::new(
            "otlp",
            false,
            "FAIL",
            format!("{address}: {}", error.kind()),
        ),
        Err(_) => Finding::new(
            "otlp",
            false,
            "FAIL",
            format!("{address}: no answer in {CHECK_TIMEOUT:?}"),
        ),
    }
}

/// The findings as an aligned text table.
#[must_use]
pub fn render(findings: &[Finding]) -> String {
    let width = findings
        .iter()
        .map(|f| f.check.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let verdict_width = findings
        .iter()
        .map(|f| f.verdict.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut table = format!(
        "{:<width$}  {:<verdict_width$}  detail\n",
        "check", "status"
    );
    for finding in findings {
        let _ = writeln!(
            table,
            "{:<width$}  {:<verdict_width$}  {}",
            finding.check, finding.verdict, finding.detail
        );
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_its_columns() {
        let table = render(&[
            Finding::new("database", true, "ok", "postgres"),
            Finding::new("otlp", false, "FAIL", "collector:4317: ConnectionRefused"),
        ]);
        assert_eq!(
            table,
            "check     status  detail\n\
             database  ok      postgres\n\
             otlp      FAIL    collector:4317: ConnectionRefused\n"
        );
    }

    #[tokio::test]
    async fn an_unreachable_otlp_endpoint_fails_and_an_unset_one_is_disabled() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let refused = otlp_finding(Some(&format!("http://127.0.0.1:{port}"))).await;
        assert!(!refused.healthy, "{refused:?}");
        let unset = otlp_finding(None).await;
        assert!(unset.healthy && unset.verdict == "disabled");
    }

    #[tokio::test]
    async fn a_listening_otlp_endpoint_passes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let found = otlp_finding(Some(&format!("http://127.0.0.1:{port}/v1/traces"))).await;
        assert!(found.healthy, "{found:?}");
    }
}
