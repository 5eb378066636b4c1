//! Handlers of `/api/v2/plants` and `/api/v2/plants/{id}` (and `/water`).

use actix_web::{HttpResponse, http::header, web};
use application::plants::{NewPlant, Owner, PlantChanges};
use domain::plants::UserPlantId;
use uuid::Uuid;

use super::documents::{CreatePlantRequest, PlantDocument, UpdatePlantRequest};
use crate::json_body::JsonBody;
use crate::{
    ApiState,
    errors::{ApiError, Problem},
    identity::extractors::Authenticated,
    paging::{PageDocument, PageQuery},
};

/// The caller's plants, oldest first, each with its species.
#[utoipa::path(
    get,
    path = "/api/v2/plants",
    tag = "plants",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of plants", body = PageDocument<PlantDocument>),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor` (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_plants(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.into_inner().try_into()?;
    let plants = state.plants.list(Owner::from(&principal), page).await?;
    Ok(HttpResponse::Ok().json(PageDocument::of(plants, |owned| {
        PlantDocument::from(&owned)
    })))
}

/// Add a plant. Its first watering reminder is one watering interval away.
#[utoipa::path(
    post,
    path = "/api/v2/plants",
    tag = "plants",
    security(("bearer" = [])),
    request_body = CreatePlantRequest,
    responses(
        (status = 201, description = "Added; `Location` is the plant", body = PlantDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, unknown species or personality (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_plant(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    body: JsonBody<CreatePlantRequest>,
) -> Result<HttpResponse, ApiError> {
    let new = NewPlant::try_from(body.into_inner())?;
    let owned = state.plants.create(Owner::from(&principal), new).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v2/plants/{}", owned.plant.id),
        ))
        .json(PlantDocument::from(&owned)))
}

/// One of the caller's plants.
#[utoipa::path(
    get,
    path = "/api/v2/plants/{id}",
    tag = "plants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Plant id")),
    responses(
        (status = 200, description = "The plant", body = PlantDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's plants (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_plant(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let owned = state
        .plants
        .get(
            Owner::from(&principal),
            UserPlantId::from_uuid(id.into_inner()),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PlantDocument::from(&owned)))
}

/// Rename a plant, change its personality or move its next reminder.
#[utoipa::path(
    patch,
    path = "/api/v2/plants/{id}",
    tag = "plants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Plant id")),
    request_body = UpdatePlantRequest,
    responses(
        (status = 200, description = "The updated plant", body = PlantDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's plants (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or unknown personality (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_plant(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
    body: JsonBody<UpdatePlantRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = PlantChanges::try_from(body.into_inner())?;
    let owned = state
        .plants
        .update(
            Owner::from(&principal),
            UserPlantId::from_uuid(id.into_inner()),
            changes,
        )
        .await?;
    Ok(HttpResponse::Ok().json(PlantDocument::from(&owned)))
}

/// Remove a plant and its conversation.
#[utoipa::path(
    delete,
    path = "/api/v2/plants/{id}",
    tag = "plants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Plant id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's plants (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_plant(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .plants
        .delete(
            Owner::from(&principal),
            UserPlantId::from_uuid(id.into_inner()),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Record a watering now; the next reminder moves one watering interval ahead.
#[utoipa::path(
    post,
    path = "/api/v2/plants/{id}/water",
    tag = "plants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Plant id")),
    responses(
        (status = 200, description = "The watered plant", body = PlantDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's plants (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn water_plant(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let owned = state
        .plants
        .water(
            Owner::from(&principal),
            UserPlantId::from_uuid(id.into_inner()),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PlantDocument::from(&owned)))
}
