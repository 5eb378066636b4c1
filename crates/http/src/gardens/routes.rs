//! Handlers of `/api/v2/gardens`, `/api/v2/gardens/{id}` and its analysis and layout.

use actix_web::{HttpResponse, http::header, web};
use application::{
    gardens::{GardenChanges, NewGarden},
    plants::Owner,
};
use domain::gardens::GardenId;
use uuid::Uuid;

use super::documents::{
    AnalysisDocument, CreateGardenRequest, GardenDocument, LayoutDocument, UpdateGardenRequest,
};
use crate::json_body::JsonBody;
use crate::{
    ApiState,
    errors::{ApiError, Problem},
    identity::extractors::Authenticated,
    paging::{PageDocument, PageQuery},
};

/// The caller's gardens, oldest first.
#[utoipa::path(
    get,
    path = "/api/v2/gardens",
    tag = "gardens",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of gardens", body = PageDocument<GardenDocument>),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor` (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_gardens(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.into_inner().try_into()?;
    let gardens = state.gardens.list(Owner::from(&principal), page).await?;
    Ok(HttpResponse::Ok().json(PageDocument::of(gardens, |garden| {
        GardenDocument::from(&garden)
    })))
}

/// Create a garden: a named grid of width × length cells (1-200 each).
#[utoipa::path(
    post,
    path = "/api/v2/gardens",
    tag = "gardens",
    security(("bearer" = [])),
    request_body = CreateGardenRequest,
    responses(
        (status = 201, description = "Created; `Location` is the garden", body = GardenDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_garden(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    body: JsonBody<CreateGardenRequest>,
) -> Result<HttpResponse, ApiError> {
    let new = NewGarden::try_from(body.into_inner())?;
    let garden = state.gardens.create(Owner::from(&principal), new).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v2/gardens/{}", garden.id)))
        .json(GardenDocument::from(&garden)))
}

/// One of the caller's gardens.
#[utoipa::path(
    get,
    path = "/api/v2/gardens/{id}",
    tag = "gardens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Garden id")),
    responses(
        (status = 200, description = "The garden", body = GardenDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's gardens (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_garden(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let garden = state
        .gardens
        .get(
            Owner::from(&principal),
            GardenId::from_uuid(id.into_inner()),
        )
        .await?;
    Ok(HttpResponse::Ok().json(GardenDocument::from(&garden)))
}

/// Rename or resize a garden.
///
/// A garden may shrink: plantings left outside are reported `out_of_grid` by the analysis.
#[utoipa::path(
    patch,
    path = "/api/v2/gardens/{id}",
    tag = "gardens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Garden id")),
    request_body = UpdateGardenRequest,
    responses(
        (status = 200, description = "The updated garden", body = GardenDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's gardens (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_garden(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateGardenRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = GardenChanges::try_from(body.into_inner())?;
    let garden = state
        .gardens
        .update(
            Owner::from(&principal),
            GardenId::from_uuid(id.into_inner()),
            changes,
        )
        .await?;
    Ok(HttpResponse::Ok().json(GardenDocument::from(&garden)))
}

/// Delete a garden with its plantings and their events.
#[utoipa::path(
    delete,
    path = "/api/v2/gardens/{id}",
    tag = "gardens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Garden id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's gardens (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_garden(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .gardens
        .delete(
            Owner::from(&principal),
            GardenId::from_uuid(id.into_inner()),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The rule engine's findings on a garden.
///
/// Companion neighbours, shared cells, plantings off the grid and restricted crops, over
/// planned and active plantings.
#[utoipa::path(
    get,
    path = "/api/v2/gardens/{id}/analysis",
    tag = "gardens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Garden id")),
    responses(
        (status = 200, description = "The findings; none, with a `note`, while the rule engine is switched off", body = AnalysisDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's gardens (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn analyse_garden(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let analysis = state
        .gardens
        .analyse(
            Owner::from(&principal),
            GardenId::from_uuid(id.into_inner()),
        )
        .await?;
    Ok(HttpResponse::Ok().json(AnalysisDocument::from(&analysis)))
}

/// The grid as rows of cells, for drawing: `rows[y][x]`.
#[utoipa::path(
    get,
    path = "/api/v2/gardens/{id}/layout",
    tag = "gardens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Garden id")),
    responses(
        (status = 200, description = "The layout", body = LayoutDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's gardens (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn garden_layout(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let layout = state
        .gardens
        .layout(
            Owner::from(&principal),
            GardenId::from_uuid(id.into_inner()),
        )
        .await?;
    Ok(HttpResponse::Ok().json(LayoutDocument::from(&layout)))
}
