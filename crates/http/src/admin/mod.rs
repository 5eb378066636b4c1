//! Platform administration routes under `/api/v2/admin`, guarded by `X-Admin-API-Key`.

pub mod audit_log;
pub mod tenants;
pub mod users;

use actix_web::web;

use crate::app::resource;

/// Registers the admin routes.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            resource("/api/v2/admin/tenants", "GET, POST")
                .route(web::get().to(tenants::list_tenants))
                .route(web::post().to(tenants::create_tenant)),
        )
        .service(
            resource("/api/v2/admin/tenants/{id}", "GET").route(web::get().to(tenants::get_tenant)),
        )
        .service(
            resource("/api/v2/admin/users/{id}", "PATCH")
                .route(web::patch().to(users::update_user)),
        )
        .service(
            resource("/api/v2/admin/audit-log", "GET").route(web::get().to(audit_log::audit_log)),
        );
}
