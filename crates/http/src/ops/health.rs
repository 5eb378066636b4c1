//! `/health` (deep check), `/health/live`, `/health/ready` and its alias `/ready`.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, http::StatusCode, web};
use application::ops::HealthReport;
use domain::ops::OverallStatus;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{ApiState, errors::Problem};

/// One dependency in the health document.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckDocument {
    /// `up`, `down`, `degraded`, `disabled`; for openai/twilio `live`, `fallback` or `demo`.
    #[schema(example = "up")]
    pub status: &'static str,
    /// How long the check took.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 3)]
    pub latency_ms: Option<u64>,
    /// A short explanation when the check is not `up`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The deep health document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "status": "healthy",
    "version": "0.1.0",
    "checks": {
        "database": {"status": "up", "latency_ms": 2},
        "migrations": {"status": "up", "latency_ms": 3},
        "redis": {"status": "disabled", "latency_ms": 0},
        "openai": {"status": "fallback", "latency_ms": 0},
        "twilio": {"status": "demo", "latency_ms": 0}
    }
}))]
pub struct HealthDocument {
    /// `healthy`, `degraded` (an optional dependency is down) or `unhealthy`.
    pub status: &'static str,
    /// The running release.
    pub version: &'static str,
    /// One entry per dependency.
    pub checks: BTreeMap<&'static str, CheckDocument>,
}

/// The liveness and readiness document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProbeDocument {
    /// `alive`, `ready` or `not_ready`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// Why the instance is not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

fn document(report: &HealthReport, version: &'static str) -> HealthDocument {
    HealthDocument {
        status: report.status.as_str(),
        version,
        checks: report
            .checks
            .iter()
            .map(|check| {
                (
                    check.dependency.as_str(),
                    CheckDocument {
                        status: check.result.status.as_str(),
                        latency_ms: Some(check.latency_ms),
                        detail: check.result.detail.clone(),
                    },
                )
            })
            .collect(),
    }
}

/// Deep health check.
///
/// Checks the database (and that its schema is current), Redis and the mode of the OpenAI and
/// Twilio integrations. `degraded` (200) means an optional dependency is down and a fallback is
/// in use; `unhealthy` (503) means the database is unreachable or its schema is not current.
#[utoipa::path(
    get,
    path = "/health",
    tag = "ops",
    responses(
        (status = 200, description = "Healthy or degraded", body = HealthDocument),
        (status = 503, description = "Unhealthy: the database is down or its schema is not current", body = HealthDocument),
        (status = 500, description = "Unexpected error", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn health(state: web::Data<ApiState>) -> HttpResponse {
    let report = state.health.run().await;
    let status = if report.status == OverallStatus::Unhealthy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    HttpResponse::build(status).json(document(&report, state.settings.version))
}

/// Liveness: the process is up and serving HTTP.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "ops",
    responses(
        (status = 200, description = "The process is alive", body = ProbeDocument),
        (status = 500, description = "Unexpected error", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(ProbeDocument {
        status: "alive",
        reason: None,
    })
}

/// Readiness: the database is reachable, its schema is current, and the instance is not
/// shutting down. `/ready` is an alias.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "ops",
    responses(
        (status = 200, description = "Ready to serve traffic", body = ProbeDocument),
        (status = 503, description = "Not ready: shutting down, database down or schema not current", body = ProbeDocument),
        (status = 500, description = "Unexpected error", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn ready(state: web::Data<ApiState>) -> HttpResponse {
    let reason = if state.lifecycle.is_draining() {
        Some("shutting_down")
    } else if !state.health.run_critical().await.critical_dependencies_up() {
        Some("database_unavailable")
    } else {
        None
    };
    match reason {
        None => HttpResponse::Ok().json(ProbeDocument {
            status: "ready",
            reason: None,
        }),
        Some(reason) => HttpResponse::ServiceUnavailable().json(ProbeDocument {
            status: "not_ready",
            reason: Some(reason),
        }),
    }
}
