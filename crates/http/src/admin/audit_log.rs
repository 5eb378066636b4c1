//! `/api/v2/admin/audit-log`.

use actix_web::{HttpResponse, web};
use application::{admin::ports::AuditEntry, paging::PageRequest};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    ApiState,
    errors::{ApiError, Problem},
    identity::extractors::PlatformAdmin,
    paging::{PageDocument, PageQuery},
};

/// One admin call.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryDocument {
    /// Id.
    pub id: Uuid,
    /// Fingerprint of the admin key, or `unknown` for a refused call.
    #[schema(example = "key:3f2a9c1b0d4e")]
    pub actor: String,
    /// What was attempted.
    #[schema(example = "tenants.create")]
    pub action: String,
    /// What it was done to.
    pub target: Option<String>,
    /// The value before.
    #[schema(value_type = Object)]
    pub old: Option<serde_json::Value>,
    /// The value after.
    #[schema(value_type = Object)]
    pub new: Option<serde_json::Value>,
    /// `success`, `refused`, `failed` or `invalid`.
    pub outcome: String,
    pub created_at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditEntryDocument {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            old: entry.old,
            new: entry.new,
            outcome: entry.outcome.as_str().to_owned(),
            created_at: entry.created_at,
        }
    }
}

/// The admin audit log, newest first.
#[utoipa::path(
    get,
    path = "/api/v2/admin/audit-log",
    tag = "admin",
    security(("admin_key" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of entries", body = PageDocument<AuditEntryDocument>),
        (status = 403, description = "Admin API disabled (ERR_ADMIN_001) or missing/wrong key (ERR_ADMIN_002)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn audit_log(
    state: web::Data<ApiState>,
    PlatformAdmin(actor): PlatformAdmin,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::try_from(query.into_inner())?;
    let entries = state.admin.audit_log(&actor, page).await?;
    Ok(HttpResponse::Ok().json(PageDocument::of(entries, AuditEntryDocument::from)))
}
