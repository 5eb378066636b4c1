//! Handlers of the public catalog routes. They take no token and ignore `Authorization`.

use actix_web::{HttpRequest, HttpResponse, web};
use application::paging::PageRequest;
use domain::catalog::CatalogPlantId;
use uuid::Uuid;

use super::{
    documents::{CatalogEntryDocument, CatalogPlantDocument, CatalogQuery, PersonalityDocument},
    public_cache::cacheable_json,
};
use crate::{
    ApiState,
    errors::{ApiError, Problem},
    paging::{PageDocument, PageQuery},
};

/// Browse and search the plant catalog.
#[utoipa::path(
    get,
    path = "/api/v2/catalog",
    tag = "catalog",
    params(CatalogQuery),
    responses(
        (status = 200, description = "One page of species; `ETag` and `Cache-Control: public, max-age=300`", body = PageDocument<CatalogPlantDocument>),
        (status = 304, description = "`If-None-Match` names the current ETag"),
        (status = 422, description = "Bad `q`, `limit` or `cursor` (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_catalog(
    req: HttpRequest,
    state: web::Data<ApiState>,
    query: web::Query<CatalogQuery>,
) -> Result<HttpResponse, ApiError> {
    let (search, page) = query.into_inner().parse()?;
    cacheable_json(&req, &state, async {
        let page = state.catalog.list(search.as_ref(), page).await?;
        Ok(PageDocument::of(page, |plant| {
            CatalogPlantDocument::from(&plant)
        }))
    })
    .await
}

/// One species with its companion plants.
#[utoipa::path(
    get,
    path = "/api/v2/catalog/{id}",
    tag = "catalog",
    params(("id" = Uuid, Path, description = "Catalog plant id")),
    responses(
        (status = 200, description = "The species; `ETag` and `Cache-Control: public, max-age=300`", body = CatalogEntryDocument),
        (status = 304, description = "`If-None-Match` names the current ETag"),
        (status = 404, description = "No such species (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_catalog_plant(
    req: HttpRequest,
    state: web::Data<ApiState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = CatalogPlantId::from_uuid(id.into_inner());
    cacheable_json(&req, &state, async {
        let entry = state.catalog.entry(id).await?;
        Ok(CatalogEntryDocument::from(&entry))
    })
    .await
}

/// The personalities plants can speak with.
#[utoipa::path(
    get,
    path = "/api/v2/personalities",
    tag = "catalog",
    params(PageQuery),
    responses(
        (status = 200, description = "One page of personalities, in id order; `ETag` and `Cache-Control: public, max-age=300`", body = PageDocument<PersonalityDocument>),
        (status = 304, description = "`If-None-Match` names the current ETag"),
        (status = 422, description = "Bad `limit` or `cursor` (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_personalities(
    req: HttpRequest,
    state: web::Data<ApiState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::try_from(query.into_inner())?;
    cacheable_json(&req, &state, async {
        let personalities = state.catalog.personalities(page).await?;
        Ok(PageDocument::of(personalities, |personality| {
            PersonalityDocument::from(&personality)
        }))
    })
    .await
}
