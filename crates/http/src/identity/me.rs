//! `/api/v2/me`: the caller's own account, its export and its erasure.

use actix_web::{HttpResponse, http::header::ContentType, web};
use application::identity::ProfileChanges;
use domain::secret::Secret;

use super::{
    documents::{DeleteMeRequest, ExportDocument, UpdateMeRequest, UserDocument},
    export_stream::export_body,
    extractors::Authenticated,
};
use crate::json_body::JsonBody;
use crate::{
    ApiState,
    errors::{ApiError, Problem},
};

/// The caller's account.
#[utoipa::path(
    get,
    path = "/api/v2/me",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = UserDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_me(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let user = state.identity.profile(&principal).await?;
    Ok(HttpResponse::Ok().json(UserDocument::from(&user)))
}

/// Change name, phone, SMS consent or password.
///
/// A password change needs `current_password` and ends every session, this one included.
#[utoipa::path(
    patch,
    path = "/api/v2/me",
    tag = "me",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The updated account", body = UserDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "current_password is wrong (ERR_AUTH_004)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The phone is registered to another account (ERR_USER_002)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_me(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    body: JsonBody<UpdateMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = ProfileChanges::try_from(body.into_inner())?;
    let user = state.identity.update_profile(&principal, changes).await?;
    Ok(HttpResponse::Ok().json(UserDocument::from(&user)))
}

/// Erase the account and everything it owns (GDPR Art. 17). Needs the password.
#[utoipa::path(
    delete,
    path = "/api/v2/me",
    tag = "me",
    security(("bearer" = [])),
    request_body = DeleteMeRequest,
    responses(
        (status = 204, description = "Erased; every token stops working"),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The password is wrong (ERR_AUTH_004)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "password is missing (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_me(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    body: JsonBody<DeleteMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let password = Secret::try_from(body.into_inner())?;
    state.identity.erase_account(&principal, &password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Everything the service holds about the caller, as one JSON document (GDPR Art. 15 and 20).
#[utoipa::path(
    get,
    path = "/api/v2/me/export",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The export", body = ExportDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn export_me(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let export = state.identity.export_account(&principal).await?;
    let head = ExportDocument::head(&export);
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .streaming(export_body(head, export.records)))
}
