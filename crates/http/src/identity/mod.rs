//! Identity routes: `/api/v2/auth/*` and `/api/v2/me`, and the extractors that say who calls.

pub mod auth;
pub mod documents;
pub mod extractors;
pub mod me;

use actix_web::web;

use crate::app::resource;

/// Registers the identity routes.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/api/v2/auth/register", "POST").route(web::post().to(auth::register)))
        .service(resource("/api/v2/auth/login", "POST").route(web::post().to(auth::login)))
        .service(resource("/api/v2/auth/refresh", "POST").route(web::post().to(auth::refresh)))
        .service(resource("/api/v2/auth/logout", "POST").route(web::post().to(auth::logout)))
        .service(
            resource("/api/v2/auth/logout-all", "POST").route(web::post().to(auth::logout_all)),
        )
        .service(
            resource("/api/v2/me", "GET, PATCH, DELETE")
                .route(web::get().to(me::get_me))
                .route(web::patch().to(me::update_me))
                .route(web::delete().to(me::delete_me)),
        )
        .service(resource("/api/v2/me/export", "GET").route(web::get().to(me::export_me)));
}
