use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use domain::ops::{CheckStatus, Dependency, OverallStatus};
use futures_util::future::join_all;

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    /// The verdict for the dependency.
    pub status: CheckStatus,
    /// A short, non-sensitive explanation (never a connection string or a secret).
    pub detail: Option<String>,
}

impl ProbeResult {
    /// A result without detail.
    #[must_use]
    pub const fn new(status: CheckStatus) -> Self {
        Self {
            status,
            detail: None,
        }
    }

    /// A result with a short explanation.
    #[must_use]
    pub fn with_detail(status: CheckStatus, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: Some(detail.into()),
        }
    }
}

/// Looks at one dependency of the service.
#[async_trait]
pub trait HealthProbe: Send + Sync {
    /// The dependency this probe looks at.
    fn dependency(&self) -> Dependency;

    /// Checks the dependency now. Probes do not fail: an unreachable dependency is a
    /// [`CheckStatus::Down`] result. The caller bounds the time a probe may take.
    async fn probe(&self) -> ProbeResult;
}

/// A probe whose answer is fixed at startup, such as the mode of an optional provider.
#[derive(Debug, Clone)]
pub struct StaticProbe {
    dependency: Dependency,
    status: CheckStatus,
}

impl StaticProbe {
    /// A probe that always answers `status` for `dependency`.
    #[must_use]
    pub const fn new(dependency: Dependency, status: CheckStatus) -> Self {
        Self { dependency, status }
    }
}

#[async_trait]
impl HealthProbe for StaticProbe {
    fn dependency(&self) -> Dependency {
        self.dependency
    }

    async fn probe(&self) -> ProbeResult {
        ProbeResult::new(self.status)
    }
}

/// One dependency's line in a health report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyReport {
    /// Which dependency.
    pub dependency: Dependency,
    /// What its probe found.
    pub result: ProbeResult,
    /// How long the probe took.
    pub latency_ms: u64,
}

/// The outcome of a deep health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// The overall verdict.
    pub status: OverallStatus,
    /// One line per dependency, in the order of [`Dependency`].
    pub checks: Vec<DependencyReport>,
}

impl HealthReport {
    /// Whether the critical dependencies (database, schema) are all up.
    #[must_use]
    pub fn critical_dependencies_up(&self) -> bool {
        self.checks
            .iter()
            .filter(|check| check.dependency.is_critical())
            .all(|check| check.result.status == CheckStatus::Up)
    }
}

/// Use case: checks every dependency at once, each within a time limit, and judges the service.
#[derive(Clone)]
pub struct CheckHealth {
    probes: Vec<Arc<dyn HealthProbe>>,
    probe_timeout: Duration,
}

impl std::fmt::Debug for CheckHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckHealth")
            .field("probes", &self.probes.len())
            .field("probe_timeout", &self.probe_timeout)
            .finish()
    }
}

impl CheckHealth {
    /// A health check over `probes`; a probe that takes longer than `probe_timeout` counts as down.
    #[must_use]
    pub fn new(probes: Vec<Arc<dyn HealthProbe>>, probe_timeout: Duration) -> Self {
        Self {
            probes,
            probe_timeout,
        }
    }

    /// Runs every probe concurrently and judges the result.
    #[tracing::instrument(name = "health.check", skip_all)]
    pub async fn run(&self) -> HealthReport {
        self.run_probes(|_| true).await
    }

    /// Runs only the probes of critical dependencies (database, schema): what readiness needs,
    /// without pinging optional ones on every probe of the load balancer.
    #[tracing::instrument(name = "health.check_critical", skip_all)]
    pub async fn run_critical(&self) -> HealthReport {
        self.run_probes(Dependency::is_critical).await
    }

    async fn run_probes(&self, wanted: impl Fn(Dependency) -> bool) -> HealthReport {
        let runs = self
            .probes
            .iter()
            .filter(|probe| wanted(probe.dependency()))
            .map(|probe| self.run_one(probe.as_ref()));
        let mut checks = join_all(runs).await;
        checks.sort_by_key(|check| check.dependency);
        let status = OverallStatus::judge(
            checks
                .iter()
                .map(|check| (check.dependency, &check.result.status)),
        );
        HealthReport { status, checks }
    }

    async fn run_one(&self, probe: &dyn HealthProbe) -> DependencyReport {
        let started = tokio::time::Instant::now();
        let result = tokio::time::timeout(self.probe_timeout, probe.probe())
            .await
            .unwrap_or_else(|_| ProbeResult::with_detail(CheckStatus::Down, "timed out"));
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if matches!(result.status, CheckStatus::Down | CheckStatus::Degraded) {
            tracing::warn!(
                dependency = probe.dependency().as_str(),
                status = result.status.as_str(),
                detail = result.detail.as_deref().unwrap_or(""),
                latency_ms,
                "health probe failing"
            );
        }
        DependencyReport {
            dependency: probe.dependency(),
            result,
            latency_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NeverAnswers;

    #[async_trait]
    impl HealthProbe for NeverAnswers {
        fn dependency(&self) -> Dependency {
            Dependency::Redis
        }

        async fn probe(&self) -> ProbeResult {
            std::future::pending().await
        }
    }

    fn probe(dependency: Dependency, status: CheckStatus) -> Arc<dyn HealthProbe> {
        Arc::new(StaticProbe::new(dependency, status))
    }

    #[tokio::test]
    async fn the_report_lists_every_dependency_in_a_stable_order() {
        let check = CheckHealth::new(
            vec![
                probe(Dependency::Twilio, CheckStatus::Demo),
                probe(Dependency::Database, CheckStatus::Up),
                probe(Dependency::Migrations, CheckStatus::Up),
            ],
            Duration::from_secs(1),
        );
        let report = check.run().await;
        let order: Vec<_> = report.checks.iter().map(|c| c.dependency).collect();
        assert_eq!(
            order,
            [
                Dependency::Database,
                Dependency::Migrations,
                Dependency::Twilio
            ]
        );
        assert_eq!(report.status, OverallStatus::Healthy);
        assert!(report.critical_dependencies_up());
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_that_hangs_counts_as_down_after_the_timeout() {
        let check = CheckHealth::new(
            vec![
                probe(Dependency::Database, CheckStatus::Up),
                Arc::new(NeverAnswers),
            ],
            Duration::from_millis(250),
        );
        let report = check.run().await;
        let redis = &report.checks[1];
        assert_eq!(
            redis.result,
            ProbeResult::with_detail(CheckStatus::Down, "timed out")
        );
        assert_eq!(redis.latency_ms, 250);
        assert_eq!(report.status, OverallStatus::Degraded);
    }

    #[tokio::test]
    async fn the_critical_check_runs_only_the_database_and_schema_probes() {
        let check = CheckHealth::new(
            vec![
                probe(Dependency::Redis, CheckStatus::Down),
                probe(Dependency::Migrations, CheckStatus::Up),
                probe(Dependency::Database, CheckStatus::Up),
            ],
            Duration::from_secs(1),
        );
        let report = check.run_critical().await;
        let checked: Vec<_> = report.checks.iter().map(|c| c.dependency).collect();
        assert_eq!(checked, [Dependency::Database, Dependency::Migrations]);
        assert!(report.critical_dependencies_up());
    }

    #[tokio::test]
    async fn a_database_that_is_down_is_not_critical_dependencies_up() {
        let check = CheckHealth::new(
            vec![probe(Dependency::Database, CheckStatus::Down)],
            Duration::from_secs(1),
        );
        let report = check.run().await;
        assert_eq!(report.status, OverallStatus::Unhealthy);
        assert!(!report.critical_dependencies_up());
    }
}
