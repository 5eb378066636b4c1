//! `/api/v2/admin/users/{id}`.

use actix_web::{HttpResponse, web};
use application::admin::UserChanges;
use domain::identity::{Role, UserId};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::audited_body;
use crate::json_body::JsonBody;
use crate::{
    ApiState,
    errors::{ApiError, Problem},
    fields::FieldErrors,
    identity::{documents::UserDocument, extractors::PlatformAdmin},
};

/// PATCH /api/v2/admin/users/{id}
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    /// Activate or deactivate; deactivation ends every session at once.
    pub is_active: Option<bool>,
    /// `member` or `admin`.
    pub role: Option<String>,
}

impl TryFrom<UpdateUserRequest> for UserChanges {
    type Error = ApiError;

    fn try_from(request: UpdateUserRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let role = match request.role.as_deref() {
            None => Some(None),
            Some(text) => text
                .parse::<Role>()
                .map(Some)
                .map_err(|error| errors.add("role", error))
                .ok(),
        };
        errors.finish(role.map(|role| Self {
            is_active: request.is_active,
            role,
        }))
    }
}

/// Activate, deactivate or change the role of a user of any tenant.
#[utoipa::path(
    patch,
    path = "/api/v2/admin/users/{id}",
    tag = "admin",
    security(("admin_key" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The updated user", body = UserDocument),
        (status = 403, description = "Admin API disabled (ERR_ADMIN_001) or missing/wrong key (ERR_ADMIN_002)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_user(
    state: web::Data<ApiState>,
    PlatformAdmin(actor): PlatformAdmin,
    id: web::Path<Uuid>,
    body: Result<JsonBody<UpdateUserRequest>, actix_web::Error>,
) -> actix_web::Result<HttpResponse> {
    let id = UserId::from_uuid(id.into_inner());
    let changes: UserChanges = audited_body(
        &state,
        &actor,
        "users.update",
        Some(format!("user:{id}")),
        body,
    )
    .await?;
    let user = state
        .admin
        .update_user(&actor, id, changes)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Ok().json(UserDocument::from(&user)))
}
