//! `/api/v2/admin/tenants`.

use actix_web::{HttpResponse, http::header, web};
use application::{admin::NewTenant, paging::PageRequest};
use chrono::{DateTime, Utc};
use domain::identity::{Tenant, TenantId, TenantSlug};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audited_body;
use crate::json_body::JsonBody;
use crate::{
    ApiState,
    errors::{ApiError, Problem, Refusal},
    fields::FieldErrors,
    identity::extractors::PlatformAdmin,
    paging::{PageDocument, PageQuery},
};

/// POST /api/v2/admin/tenants
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTenantRequest {
    /// `[a-z0-9-]{3,40}`, unique.
    #[schema(example = "greenhouse")]
    pub slug: Option<String>,
    /// Display name, 1-200 characters.
    #[schema(example = "The Greenhouse")]
    pub name: Option<String>,
    /// Whether anyone may sign up (default true).
    pub signup_open: Option<bool>,
}

impl TryFrom<CreateTenantRequest> for NewTenant {
    type Error = ApiError;

    fn try_from(request: CreateTenantRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let slug = errors.parse("slug", request.slug.as_deref(), TenantSlug::parse);
        let name = errors.parse("name", request.name.as_deref(), |text| {
            let name = text.trim();
            if name.chars().count() <= 200 && !name.chars().any(char::is_control) {
                Ok(name.to_owned())
            } else {
                Err("must be 1-200 characters without control characters")
            }
        });
        let tenant = (|| {
            Some(Self {
                slug: slug?,
                name: name?,
                signup_open: request.signup_open.unwrap_or(true),
            })
        })();
        errors.finish(tenant)
    }
}

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantDocument {
    /// Id.
    pub id: Uuid,
    /// Slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Whether anyone may sign up.
    pub signup_open: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<Tenant> for TenantDocument {
    fn from(tenant: Tenant) -> Self {
        Self {
            id: tenant.id.as_uuid(),
            slug: tenant.slug.as_str().to_owned(),
            name: tenant.name,
            signup_open: tenant.signup_open,
            created_at: tenant.created_at,
        }
    }
}

/// Create a tenant.
#[utoipa::path(
    post,
    path = "/api/v2/admin/tenants",
    tag = "admin",
    security(("admin_key" = [])),
    request_body = CreateTenantRequest,
    responses(
        (status = 201, description = "Created; `Location` is its GET path", body = TenantDocument),
        (status = 403, description = "Admin API disabled (ERR_ADMIN_001) or missing/wrong key (ERR_ADMIN_002)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken (ERR_TENANT_003)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_tenant(
    state: web::Data<ApiState>,
    PlatformAdmin(actor): PlatformAdmin,
    body: Result<JsonBody<CreateTenantRequest>, actix_web::Error>,
) -> actix_web::Result<HttpResponse> {
    let new: NewTenant = audited_body(&state, &actor, "tenants.create", None, body).await?;
    let tenant = state
        .admin
        .create_tenant(&actor, new)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v2/admin/tenants/{}", tenant.id),
        ))
        .json(TenantDocument::from(tenant)))
}

/// List tenants, oldest first.
#[utoipa::path(
    get,
    path = "/api/v2/admin/tenants",
    tag = "admin",
    security(("admin_key" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of tenants", body = PageDocument<TenantDocument>),
        (status = 403, description = "Admin API disabled (ERR_ADMIN_001) or missing/wrong key (ERR_ADMIN_002)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_tenants(
    state: web::Data<ApiState>,
    PlatformAdmin(actor): PlatformAdmin,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::try_from(query.into_inner())?;
    let tenants = state.admin.list_tenants(&actor, page).await?;
    Ok(HttpResponse::Ok().json(PageDocument::of(tenants, TenantDocument::from)))
}

/// One tenant.
#[utoipa::path(
    get,
    path = "/api/v2/admin/tenants/{id}",
    tag = "admin",
    security(("admin_key" = [])),
    params(("id" = Uuid, Path, description = "Tenant id")),
    responses(
        (status = 200, description = "The tenant", body = TenantDocument),
        (status = 403, description = "Admin API disabled (ERR_ADMIN_001) or missing/wrong key (ERR_ADMIN_002)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_tenant(
    state: web::Data<ApiState>,
    PlatformAdmin(actor): PlatformAdmin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let tenant = state
        .admin
        .tenant(&actor, TenantId::from_uuid(id.into_inner()))
        .await?
        .ok_or(Refusal::ResourceNotFound)?;
    Ok(HttpResponse::Ok().json(TenantDocument::from(tenant)))
}
