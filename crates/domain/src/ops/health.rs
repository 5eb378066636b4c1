/// The state of one dependency as seen by a health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// Reachable and working.
    Up,
    /// Not reachable or not working.
    Down,
    /// Working, but with reduced guarantees (for example a fallback is in use).
    Degraded,
    /// Not configured; nothing to check.
    Disabled,
    /// An external provider is configured and used for real.
    Live,
    /// No provider configured: answers come from templates.
    Fallback,
    /// No provider configured: messages are only logged and stored.
    Demo,
}

impl CheckStatus {
    /// The wire name of the status (`up`, `down`, ...).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Degraded => "degraded",
            Self::Disabled => "disabled",
            Self::Live => "live",
            Self::Fallback => "fallback",
            Self::Demo => "demo",
        }
    }
}

/// The dependencies a deep health check looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dependency {
    /// The primary database; the service cannot work without it.
    Database,
    /// The schema version of the database compared with the binary's migrations.
    Migrations,
    /// Redis, used for shared rate limits and caching; optional.
    Redis,
    /// The chat model provider; the service falls back to templates without it.
    OpenAi,
    /// The SMS provider; the service runs in demo mode without it.
    Twilio,
}

impl Dependency {
    /// The wire name of the dependency, as used in the health document.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Database => "database",
            Self::Migrations => "migrations",
            Self::Redis => "redis",
            Self::OpenAi => "openai",
            Self::Twilio => "twilio",
        }
    }

    /// Whether the service is unusable when this dependency is down.
    #[must_use]
    pub const fn is_critical(self) -> bool {
        matches!(self, Self::Database | Self::Migrations)
    }
}

/// The overall verdict of a health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverallStatus {
    /// Every dependency works.
    Healthy,
    /// The service answers, but an optional dependency is down and a fallback is in use.
    Degraded,
    /// A critical dependency is down: the service cannot do its work.
    Unhealthy,
}

impl OverallStatus {
    /// Judges the service from the status of each dependency: a critical dependency that is not
    /// up makes it unhealthy; an optional one that is down or degraded makes it degraded.
    #[must_use]
    pub fn judge<'a>(checks: impl IntoIterator<Item = (Dependency, &'a CheckStatus)>) -> Self {
        let mut verdict = Self::Healthy;
        for (dependency, status) in checks {
            let failing = matches!(status, CheckStatus::Down | CheckStatus::Degraded);
            if failing && dependency.is_critical() {
                return Self::Unhealthy;
            }
            if failing {
                verdict = Self::Degraded;
            }
        }
        verdict
    }

    /// The wire name of the verdict.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::Unhealthy => "unhealthy",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dependency_up_or_in_its_intended_mode_is_healthy() {
        let checks = [
            (Dependency::Database, CheckStatus::Up),
            (Dependency::Migrations, CheckStatus::Up),
            (Dependency::Redis, CheckStatus::Disabled),
            (Dependency::OpenAi, CheckStatus::Fallback),
            (Dependency::Twilio, CheckStatus::Demo),
        ];
        let verdict = OverallStatus::judge(checks.iter().map(|(d, s)| (*d, s)));
        assert_eq!(verdict, OverallStatus::Healthy);
    }

    #[test]
    fn a_database_that_is_down_makes_the_service_unhealthy() {
        let checks = [
            (Dependency::Redis, CheckStatus::Down),
            (Dependency::Database, CheckStatus::Down),
        ];
        let verdict = OverallStatus::judge(checks.iter().map(|(d, s)| (*d, s)));
        assert_eq!(verdict, OverallStatus::Unhealthy);
    }

    #[test]
    fn pending_migrations_make_the_service_unhealthy() {
        let checks = [(Dependency::Migrations, CheckStatus::Degraded)];
        let verdict = OverallStatus::judge(checks.iter().map(|(d, s)| (*d, s)));
        assert_eq!(verdict, OverallStatus::Unhealthy);
    }

    #[test]
    fn redis_that_is_down_only_degrades_the_service() {
        let checks = [
            (Dependency::Database, CheckStatus::Up),
            (Dependency::Redis, CheckStatus::Down),
        ];
        let verdict = OverallStatus::judge(checks.iter().map(|(d, s)| (*d, s)));
        assert_eq!(verdict, OverallStatus::Degraded);
        assert_eq!(verdict.as_str(), "degraded");
    }

    #[test]
    fn wire_names_match_the_contract() {
        let names: Vec<_> = [
            CheckStatus::Up,
            CheckStatus::Down,
            CheckStatus::Degraded,
            CheckStatus::Disabled,
            CheckStatus::Live,
            CheckStatus::Fallback,
            CheckStatus::Demo,
        ]
        .iter()
        .map(|s| s.as_str())
        .collect();
        assert_eq!(
            names,
            [
                "up", "down", "degraded", "disabled", "live", "fallback", "demo"
            ]
        );
        let deps: Vec<_> = [
            Dependency::Database,
            Dependency::Migrations,
            Dependency::Redis,
            Dependency::OpenAi,
            Dependency::Twilio,
        ]
        .iter()
        .map(|d| d.as_str())
        .collect();
        assert_eq!(
            deps,
            ["database", "migrations", "redis", "openai", "twilio"]
        );
        assert_eq!(OverallStatus::Healthy.as_str(), "healthy");
        assert_eq!(OverallStatus::Unhealthy.as_str(), "unhealthy");
    }
}
