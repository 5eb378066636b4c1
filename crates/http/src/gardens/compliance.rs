//! `/api/v2/compliance/audit`: the tenant's compliance audit, for its administrators.

use actix_web::{HttpResponse, web};
use application::paging::PageRequest;

use super::documents::ComplianceEntryDocument;
use crate::{
    ApiState,
    errors::{ApiError, Problem},
    identity::extractors::TenantAdmin,
    paging::{PageDocument, PageQuery},
};

/// Attempts to plant restricted crops in the caller's tenant, newest first.
#[utoipa::path(
    get,
    path = "/api/v2/compliance/audit",
    tag = "gardens",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of audit entries", body = PageDocument<ComplianceEntryDocument>),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator of the tenant (ERR_AUTH_006)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor` (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn tenant_audit(
    state: web::Data<ApiState>,
    TenantAdmin(principal): TenantAdmin,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::try_from(query.into_inner())?;
    let entries = state
        .gardens
        .compliance_audit(principal.tenant_id, page)
        .await?;
    Ok(HttpResponse::Ok().json(PageDocument::of(entries, ComplianceEntryDocument::from)))
}
