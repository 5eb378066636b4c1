//! `/api/v2/admin/database-status`: migrations, pools, row counts and replica lag.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use application::ops::{DatabaseStatus, PoolUsage};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    ApiState,
    errors::{ApiError, Problem},
    identity::extractors::PlatformAdmin,
};

/// Applied and pending migrations.
#[derive(Debug, Serialize, ToSchema)]
pub struct MigrationsDocument {
    /// Applied migrations this binary knows, oldest first.
    pub applied: Vec<String>,
    /// Migrations this binary knows that the database has not applied, oldest first.
    pub pending: Vec<String>,
    /// Applied migrations this binary does not know (the database is newer).
    pub unknown: Vec<String>,
}

/// A connection pool's occupancy.
#[derive(Debug, Serialize, ToSchema)]
pub struct PoolDocument {
    /// Its most connections.
    pub size: u32,
    /// Open connections nobody holds.
    pub idle: u32,
    /// Connections lent out.
    pub in_use: u32,
}

impl From<&PoolUsage> for PoolDocument {
    fn from(usage: &PoolUsage) -> Self {
        Self {
            size: usage.max,
            idle: usage.idle,
            in_use: usage.in_use,
        }
    }
}

/// The read replica, when one is configured.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplicaDocument {
    /// How far its replay is behind the primary, in seconds.
    pub lag_seconds: f64,
}

/// The database as an operator sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "backend": "postgres",
    "migrations": {"applied": ["m20260101_000001_identity"], "pending": [], "unknown": []},
    "pool": {"size": 10, "idle": 8, "in_use": 2},
    "tables": {"users": 1204, "user_plants": 5310},
    "row_counts_estimated": true,
    "replica": null
}))]
pub struct DatabaseStatusDocument {
    /// `postgres` or `sqlite`.
    pub backend: &'static str,
    /// The schema's migrations.
    pub migrations: MigrationsDocument,
    /// The primary pool.
    pub pool: PoolDocument,
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
    /// Whether `tables` holds PostgreSQL's estimates rather than exact counts.
    pub row_counts_estimated: bool,
    /// The read replica; `null` when none is configured.
    pub replica: Option<ReplicaDocument>,
}

impl From<DatabaseStatus> for DatabaseStatusDocument {
    fn from(status: DatabaseStatus) -> Self {
        let primary = status
            .pools
            .iter()
            .find(|pool| pool.pool == "primary")
            .map_or(
                PoolDocument {
                    size: 0,
                    idle: 0,
                    in_use: 0,
                },
                PoolDocument::from,
            );
        Self {
            backend: status.backend,
            migrations: MigrationsDocument {
                applied: status.schema.applied,
                pending: status.schema.pending,
                unknown: status.schema.unknown,
            },
            pool: primary,
            tables: status
                .tables
                .into_iter()
                .map(|table| (table.table, table.rows))
                .collect(),
            row_counts_estimated: status.row_counts_estimated,
            replica: status
                .replica_lag_seconds
                .map(|lag_seconds| ReplicaDocument { lag_seconds }),
        }
    }
}

/// Migrations applied and pending, the pool's occupancy, rows per table (estimates on
/// PostgreSQL) and the replica's lag. Audited.
#[utoipa::path(
    get,
    path = "/api/v2/admin/database-status",
    tag = "admin",
    security(("admin_key" = [])),
    responses(
        (status = 200, description = "The database's status", body = DatabaseStatusDocument),
        (status = 403, description = "Admin API disabled (ERR_ADMIN_001) or missing/wrong key (ERR_ADMIN_002)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn database_status(
    state: web::Data<ApiState>,
    PlatformAdmin(actor): PlatformAdmin,
) -> Result<HttpResponse, ApiError> {
    let status = state.admin.database_status(&actor).await?;
    Ok(HttpResponse::Ok().json(DatabaseStatusDocument::from(status)))
}
