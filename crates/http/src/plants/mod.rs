//! The caller's plants and conversations: `/api/v2/plants/*`.

pub mod chat;
pub mod documents;
pub mod routes;

use actix_web::web;

use crate::app::resource;

/// Registers the plant routes.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            resource("/api/v2/plants", "GET, POST")
                .route(web::get().to(routes::list_plants))
                .route(web::post().to(routes::create_plant)),
        )
        .service(
            resource("/api/v2/plants/{id}", "GET, PATCH, DELETE")
                .route(web::get().to(routes::get_plant))
                .route(web::patch().to(routes::update_plant))
                .route(web::delete().to(routes::delete_plant)),
        )
        .service(
            resource("/api/v2/plants/{id}/water", "POST")
                .route(web::post().to(routes::water_plant)),
        )
        .service(resource("/api/v2/plants/{id}/chat", "POST").route(web::post().to(chat::chat)))
        .service(
            resource("/api/v2/plants/{id}/messages", "GET").route(web::get().to(chat::messages)),
        );
}
