//! The public catalog routes: `/api/v2/catalog` and `/api/v2/personalities`, cacheable by
//! browsers and proxies (ETag, `Cache-Control: public`).

pub mod documents;
mod public_cache;
pub mod routes;

use actix_web::web;

use crate::app::resource;

/// Registers the catalog routes.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/api/v2/catalog", "GET").route(web::get().to(routes::list_catalog)))
        .service(
            resource("/api/v2/catalog/{id}", "GET").route(web::get().to(routes::get_catalog_plant)),
        )
        .service(
            resource("/api/v2/personalities", "GET")
                .route(web::get().to(routes::list_personalities)),
        );
}
