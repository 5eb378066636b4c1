//! `/api/v2/admin/compliance-audit`: every tenant's compliance audit.

use actix_web::{HttpResponse, web};
use application::paging::PageRequest;

use crate::{
    ApiState,
    errors::{ApiError, Problem},
    gardens::documents::ComplianceEntryDocument,
    identity::extractors::PlatformAdmin,
    paging::{PageDocument, PageQuery},
};

/// Attempts to plant restricted crops in every tenant, newest first.
#[utoipa::path(
    get,
    path = "/api/v2/admin/compliance-audit",
    tag = "admin",
    security(("admin_key" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of audit entries", body = PageDocument<ComplianceEntryDocument>),
        (status = 403, description = "Admin API disabled (ERR_ADMIN_001) or missing/wrong key (ERR_ADMIN_002)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor` (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn compliance_audit(
    state: web::Data<ApiState>,
    PlatformAdmin(actor): PlatformAdmin,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::try_from(query.into_inner())?;
    let entries = state.admin.compliance_audit(&actor, page).await?;
    Ok(HttpResponse::Ok().json(PageDocument::of(entries, ComplianceEntryDocument::from)))
}
