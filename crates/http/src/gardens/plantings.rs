//! Handlers of `/api/v2/gardens/{id}/plantings` and `/api/v2/plantings/{id}` (and `/events`).

use actix_web::{HttpResponse, http::header, web};
use application::{
    gardens::{NewEvent, NewPlanting, PlantingChanges},
    plants::Owner,
};
use domain::gardens::{GardenId, PlantingId};
use uuid::Uuid;

use super::documents::{
    CreateEventRequest, CreatePlantingRequest, EventDocument, PlantingDocument, PlantingsQuery,
    UpdatePlantingRequest,
};
use crate::json_body::JsonBody;
use crate::{
    ApiState,
    errors::{ApiError, Problem},
    identity::extractors::Authenticated,
    paging::{PageDocument, PageQuery},
};

/// The plantings of one of the caller's gardens, oldest first; `?status=` filters.
#[utoipa::path(
    get,
    path = "/api/v2/gardens/{id}/plantings",
    tag = "gardens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Garden id"), PlantingsQuery),
    responses(
        (status = 200, description = "One page of plantings", body = PageDocument<PlantingDocument>),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's gardens (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `status`, `limit` or `cursor` (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_plantings(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
    query: web::Query<PlantingsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (status, page) = query.into_inner().parse()?;
    let plantings = state
        .gardens
        .plantings(
            Owner::from(&principal),
            GardenId::from_uuid(id.into_inner()),
            status,
            page,
        )
        .await?;
    Ok(
        HttpResponse::Ok().json(PageDocument::of(plantings, |planting| {
            PlantingDocument::from(&planting)
        })),
    )
}

/// Place a catalog plant on a cell of the garden.
///
/// A restricted crop is recorded in the compliance audit and flags the caller; it is refused
/// while compliance enforcement is on.
#[utoipa::path(
    post,
    path = "/api/v2/gardens/{id}/plantings",
    tag = "gardens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Garden id")),
    request_body = CreatePlantingRequest,
    responses(
        (status = 201, description = "Planted; `Location` is the planting", body = PlantingDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's gardens (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or a cell off the grid (ERR_VALIDATION_001); a restricted crop while enforcement is on (ERR_COMPLIANCE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_planting(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
    body: JsonBody<CreatePlantingRequest>,
) -> Result<HttpResponse, ApiError> {
    let new = NewPlanting::try_from(body.into_inner())?;
    let planting = state
        .gardens
        .add_planting(
            Owner::from(&principal),
            GardenId::from_uuid(id.into_inner()),
            new,
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v2/plantings/{}", planting.id),
        ))
        .json(PlantingDocument::from(&planting)))
}

/// Move a planting along its life or to another cell.
///
/// Status moves: planned -> active -> harvested | removed, planned -> removed. The day it was
/// planted may be recorded too.
#[utoipa::path(
    patch,
    path = "/api/v2/plantings/{id}",
    tag = "gardens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Planting id")),
    request_body = UpdatePlantingRequest,
    responses(
        (status = 200, description = "The updated planting", body = PlantingDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's plantings (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or a cell off the grid (ERR_VALIDATION_001); a refused status move (ERR_PLANTING_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_planting(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
    body: JsonBody<UpdatePlantingRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = PlantingChanges::try_from(body.into_inner())?;
    let planting = state
        .gardens
        .update_planting(
            Owner::from(&principal),
            PlantingId::from_uuid(id.into_inner()),
            changes,
        )
        .await?;
    Ok(HttpResponse::Ok().json(PlantingDocument::from(&planting)))
}

/// One of the caller's plantings.
#[utoipa::path(
    get,
    path = "/api/v2/plantings/{id}",
    tag = "gardens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Planting id")),
    responses(
        (status = 200, description = "The planting", body = PlantingDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's plantings (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_planting(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let planting = state
        .gardens
        .planting(
            Owner::from(&principal),
            PlantingId::from_uuid(id.into_inner()),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PlantingDocument::from(&planting)))
}

/// The events of one of the caller's plantings, in the order they were recorded.
#[utoipa::path(
    get,
    path = "/api/v2/plantings/{id}/events",
    tag = "gardens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Planting id"), PageQuery),
    responses(
        (status = 200, description = "One page of events", body = PageDocument<EventDocument>),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's plantings (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor` (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_events(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.into_inner().try_into()?;
    let events = state
        .gardens
        .events(
            Owner::from(&principal),
            PlantingId::from_uuid(id.into_inner()),
            page,
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageDocument::of(events, |event| {
        EventDocument::from(&event)
    })))
}

/// Delete a planting and its events.
#[utoipa::path(
    delete,
    path = "/api/v2/plantings/{id}",
    tag = "gardens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Planting id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's plantings (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_planting(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .gardens
        .delete_planting(
            Owner::from(&principal),
            PlantingId::from_uuid(id.into_inner()),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Record something that happened to a planting.
///
/// Sown, watered, fertilized, pruned, harvested, or a note.
#[utoipa::path(
    post,
    path = "/api/v2/plantings/{id}/events",
    tag = "gardens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Planting id")),
    request_body = CreateEventRequest,
    responses(
        (status = 201, description = "Recorded; `Location` is the event", body = EventDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's plantings (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_event(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
    body: JsonBody<CreateEventRequest>,
) -> Result<HttpResponse, ApiError> {
    let new = NewEvent::try_from(body.into_inner())?;
    let event = state
        .gardens
        .add_event(
            Owner::from(&principal),
            PlantingId::from_uuid(id.into_inner()),
            new,
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!(
                "/api/v2/plantings/{}/events/{}",
                event.planting_id, event.id
            ),
        ))
        .json(EventDocument::from(&event)))
}
