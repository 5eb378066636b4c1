//! The OpenAPI 3.1 document, generated from the handlers and types of this crate.

use utoipa::{
    Modify, OpenApi,
    openapi::{
        ContentBuilder, ObjectBuilder, Ref, Required, ResponseBuilder, Type,
        path::{ParameterBuilder, ParameterIn},
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use actix_web::http::Method;

use crate::{
    admin, catalog, errors, gardens, identity, ops, plants, route_table::ROUTES, webhooks,
};

/// The whole API description served at `/api/v2/openapi.json`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Plant Texts API",
        description = "Plants text their owners: care reminders by SMS, chat over REST and SMS, \
                       gardens with companion-planting analysis. Every error is an RFC 9457 \
                       problem document (`application/problem+json`) whose `code` is listed in \
                       docs/api-errors.md.",
        license(name = "MIT"),
    ),
    paths(
        ops::health::health,
        ops::health::live,
        ops::health::ready,
        ops::metrics::scrape,
        ops::docs::openapi,
        identity::auth::register,
        identity::auth::login,
        identity::auth::refresh,
        identity::auth::logout,
        identity::auth::logout_all,
        identity::me::get_me,
        identity::me::update_me,
        identity::me::delete_me,
        identity::me::export_me,
        identity::phone::request_code,
        identity::phone::confirm,
        admin::tenants::create_tenant,
        admin::tenants::list_tenants,
        admin::tenants::get_tenant,
        admin::users::update_user,
        admin::audit_log::audit_log,
        admin::sms_log::sms_log,
        admin::feature_flags::get_flags,
        admin::feature_flags::update_flags,
        admin::feature_flags::reload_flags,
        admin::compliance_audit::compliance_audit,
        admin::database_status::database_status,
        catalog::routes::list_catalog,
        catalog::routes::get_catalog_plant,
        catalog::routes::list_personalities,
        plants::routes::list_plants,
        plants::routes::create_plant,
        plants::routes::get_plant,
        plants::routes::update_plant,
        plants::routes::delete_plant,
        plants::routes::water_plant,
        plants::chat::chat,
        plants::chat::messages,
        gardens::routes::list_gardens,
        gardens::routes::create_garden,
        gardens::routes::get_garden,
        gardens::routes::update_garden,
        gardens::routes::delete_garden,
        gardens::routes::analyse_garden,
        gardens::routes::garden_layout,
        gardens::plantings::list_plantings,
        gardens::plantings::create_planting,
        gardens::plantings::get_planting,
        gardens::plantings::list_events,
        gardens::plantings::update_planting,
        gardens::plantings::delete_planting,
        gardens::plantings::create_event,
        gardens::compliance::tenant_audit,
        webhooks::twilio::inbound_sms,
        webhooks::twilio::delivery_status,
    ),
    components(schemas(
        errors::Problem,
        errors::FieldError,
        ops::health::HealthDocument,
        ops::health::CheckDocument,
        ops::health::ProbeDocument,
    )),
    modifiers(&SecuritySchemes, &EdgeResponses),
    tags(
        (name = "ops", description = "Health, readiness and documentation"),
        (name = "auth", description = "Sign-up, login and sessions"),
        (name = "me", description = "The caller's own account, its export and erasure (GDPR)"),
        (name = "catalog", description = "The public plant catalog and personalities (no token; cacheable)"),
        (name = "plants", description = "The caller's plants and conversations with them"),
        (name = "gardens", description = "The caller's gardens: plantings on a grid, their events, companion-planting analysis and the compliance audit"),
        (name = "webhooks", description = "Called by Twilio, signed with X-Twilio-Signature: inbound texts and delivery reports"),
        (name = "admin", description = "Platform administration (X-Admin-API-Key); every call is audited"),
    ),
)]
pub struct ApiDoc;

/// Declares the bearer-token and admin-key security schemes.
#[derive(Debug)]
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from POST /api/v2/auth/login"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("METRICS_TOKEN, when the instance sets one"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Admin-API-Key",
                "Platform administrator key",
            ))),
        );
    }
}

/// Declares what the edge may answer on every operation — 400 for a Host not served here, 405
/// for another method, 429 from the rate limits, 503 from the request timeout; 400, 413 and 415
/// for the body of an operation that takes one — and the `Idempotency-Key` of the create
/// operations. Documents `/ready`, the alias of `/health/ready`.
#[derive(Debug)]
struct EdgeResponses;

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

impl Modify for EdgeResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(mut ready) = openapi.paths.paths.get("/health/ready").cloned() {
            if let Some(get) = &mut ready.get {
                get.operation_id = Some("ready_alias".to_owned());
                get.summary =
                    Some("Readiness, as `/health/ready` (alias for load balancers).".to_owned());
            }
            openapi.paths.paths.insert("/ready".to_owned(), ready);
        }
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                (Method::GET, &mut item.get),
                (Method::POST, &mut item.post),
                (Method::PUT, &mut item.put),
                (Method::PATCH, &mut item.patch),
                (Method::DELETE, &mut item.delete),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let takes_idempotency_key = ROUTES.iter().any(|route| {
                    route.pattern == path && route.method == method && route.idempotent
                });
                let takes_body = operation.request_body.is_some();
                let responses = &mut operation.responses.responses;
                responses.entry("400".to_owned()).or_insert_with(|| {
                    let description = if takes_body {
                        "The body is not well-formed JSON (ERR_REQUEST_001), or the Host is not served here (ERR_REQUEST_004)"
                    } else {
                        "The Host is not served here (ERR_REQUEST_004)"
                    };
                    problem_response(description).into()
                });
                responses.entry("405".to_owned()).or_insert_with(|| {
                    problem_response(
                        "Another method than this path serves (ERR_ROUTE_002); `Allow` lists them",
                    )
                    .into()
                });
                if takes_body {
                    responses.entry("413".to_owned()).or_insert_with(|| {
                        problem_response("The body is larger than MAX_BODY_BYTES (ERR_REQUEST_003)")
                            .into()
                    });
                    responses.entry("415".to_owned()).or_insert_with(|| {
                        problem_response(
                            "The body is not sent as application/json (ERR_REQUEST_002)",
                        )
                        .into()
                    });
                }
                responses.entry("429".to_owned()).or_insert_with(|| {
                    problem_response(
                        "Rate limit reached (ERR_RATE_001); `Retry-After` says when to retry",
                    )
                    .into()
                });
                responses.entry("503".to_owned()).or_insert_with(|| {
                    problem_response("A dependency is down (ERR_UNAVAILABLE_001), the request took too long (ERR_UNAVAILABLE_002) or password hashing is at capacity (ERR_UNAVAILABLE_003, with `Retry-After`)").into()
                });
                if takes_idempotency_key {
                    responses.entry("409".to_owned()).or_insert_with(|| {
                        problem_response("A request with this Idempotency-Key is still running (ERR_IDEMPOTENCY_002)").into()
                    });
                    operation.parameters.get_or_insert_with(Vec::new).push(
                        ParameterBuilder::new()
                            .name("Idempotency-Key")
                            .parameter_in(ParameterIn::Header)
                            .required(Required::False)
                            .description(Some("1-255 characters; a retry with the same key and body replays the first response for 24 h, another body is 422 (ERR_IDEMPOTENCY_001)"))
                            .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(255))))
                            .build(),
                    );
                }
            }
        }
    }
}
