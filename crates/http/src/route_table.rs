//! The one table of the API's routes. Every per-route decision — which handler runs, which
//! methods a path allows (`Allow` on 405), which rate-limit policies apply, whether an
//! `Idempotency-Key` is honoured, who may call it, which OpenAPI operation documents it — is
//! read from here, keyed on the route's pattern.
//!
//! Middleware runs before the router, so it resolves the request against this table with the
//! router's own matcher (`ResourceDef`) on the router's own decoded path (`match_info()`), never
//! on the raw request path: `/%61pi/v2/auth/login` and `/api/v2/auth/login` are the same route
//! with the same policies, and a spelling that reaches no handler reaches no route here either.

use std::sync::LazyLock;

use actix_web::{
    HttpMessage as _, Route,
    dev::{ResourceDef, ServiceRequest},
    http::Method,
    web,
};
use domain::ratelimit::Policy;

use crate::{admin, app::resource, catalog, gardens, identity, ops, plants, webhooks};

/// Who may call a route, as its handler enforces it and the OpenAPI document declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, no credentials (public reads, login, registration, probes, the docs).
    Anyone,
    /// A user with a bearer access token.
    Bearer,
    /// The platform administrator, with `X-Admin-API-Key`.
    AdminKey,
    /// Twilio, with `X-Twilio-Signature`.
    TwilioSignature,
}

/// One route: a method on a path pattern, and everything decided about it.
#[derive(Debug)]
pub struct RouteSpec {
    /// The HTTP method.
    pub method: Method,
    /// The router's pattern (`/api/v2/plants/{id}`).
    pub pattern: &'static str,
    /// The rate-limit policies, coarse before fine (SPEC §5.3).
    pub policies: &'static [Policy],
    /// Whether `Idempotency-Key` is honoured (authenticated creates).
    pub idempotent: bool,
    /// Who may call it.
    pub access: Access,
    /// Whether the OpenAPI document describes it (the docs' own assets are not API operations).
    pub documented: bool,
    /// Binds the handler to a route of `method`.
    handler: fn(Route) -> Route,
}

/// The policies of every `/api/v2` request.
const API: &[Policy] = &[Policy::GLOBAL, Policy::API];
/// Login: per address, then per address and account, then failed logins per account.
const LOGIN: &[Policy] = &[
    Policy::GLOBAL,
    Policy::API,
    Policy::LOGIN_IP,
    Policy::LOGIN,
    Policy::LOGIN_ACCOUNT,
];
/// Registration: per address, then per address and account.
const REGISTER: &[Policy] = &[Policy::GLOBAL, Policy::API, Policy::LOGIN_IP, Policy::LOGIN];
const PLANTS_CREATE: &[Policy] = &[Policy::GLOBAL, Policy::API, Policy::PLANTS_CREATE];
const CHAT: &[Policy] = &[Policy::GLOBAL, Policy::API, Policy::CHAT];
const PHONE_CODE: &[Policy] = &[Policy::GLOBAL, Policy::API, Policy::PHONE_CODE];
/// Twilio's webhooks: per `From` (or, for delivery reports, `To`) number, applied by the handler
/// after the signature check — never per address, since Twilio's few addresses carry every
/// tenant's traffic (SPEC §6.1).
const WEBHOOK: &[Policy] = &[Policy::WEBHOOK];
const HEALTH: &[Policy] = &[Policy::HEALTH];
/// The documentation page and its assets (outside `/api/v2`, per address like the probes).
const DOCS: &[Policy] = &[Policy::GLOBAL, Policy::API];

const fn route(
    method: Method,
    pattern: &'static str,
    access: Access,
    policies: &'static [Policy],
    handler: fn(Route) -> Route,
) -> RouteSpec {
    RouteSpec {
        method,
        pattern,
        policies,
        idempotent: false,
        access,
        documented: true,
        handler,
    }
}

const fn idempotent(mut spec: RouteSpec) -> RouteSpec {
    spec.idempotent = true;
    spec
}

const fn undocumented(mut spec: RouteSpec) -> RouteSpec {
    spec.documented = false;
    spec
}

use Access::{AdminKey, Anyone, Bearer, TwilioSignature};

/// Every route of the API, in the order the router tries them.
pub static ROUTES: &[RouteSpec] = &[
    // ops
    route(Method::GET, "/health", Anyone, HEALTH, |r| {
        r.to(ops::health::health)
    }),
    route(Method::GET, "/health/live", Anyone, HEALTH, |r| {
        r.to(ops::health::live)
    }),
    route(Method::GET, "/health/ready", Anyone, HEALTH, |r| {
        r.to(ops::health::ready)
    }),
    route(Method::GET, "/ready", Anyone, HEALTH, |r| {
        r.to(ops::health::ready)
    }),
    // Scraped by Prometheus with METRICS_TOKEN when set; limited like the probes.
    route(Method::GET, "/metrics", Anyone, HEALTH, |r| {
        r.to(ops::metrics::scrape)
    }),
    route(Method::GET, "/api/v2/openapi.json", Anyone, API, |r| {
        r.to(ops::docs::openapi)
    }),
    undocumented(route(Method::GET, "/docs", Anyone, DOCS, |r| {
        r.to(ops::docs::page)
    })),
    undocumented(route(Method::GET, "/docs/", Anyone, DOCS, |r| {
        r.to(ops::docs::page)
    })),
    undocumented(route(
        Method::GET,
        "/docs/swagger-ui-bundle.js",
        Anyone,
        DOCS,
        |r| r.to(ops::docs::script),
    )),
    undocumented(route(
        Method::GET,
        "/docs/swagger-initializer.js",
        Anyone,
        DOCS,
        |r| r.to(ops::docs::initializer),
    )),
    undocumented(route(
        Method::GET,
        "/docs/swagger-ui.css",
        Anyone,
        DOCS,
        |r| r.to(ops::docs::stylesheet),
    )),
    // identity
    route(
        Method::POST,
        "/api/v2/auth/register",
        Anyone,
        REGISTER,
        |r| r.to(identity::auth::register),
    ),
    route(Method::POST, "/api/v2/auth/login", Anyone, LOGIN, |r| {
        r.to(identity::auth::login)
    }),
    route(Method::POST, "/api/v2/auth/refresh", Anyone, API, |r| {
        r.to(identity::auth::refresh)
    }),
    route(Method::POST, "/api/v2/auth/logout", Bearer, API, |r| {
        r.to(identity::auth::logout)
    }),
    route(Method::POST, "/api/v2/auth/logout-all", Bearer, API, |r| {
        r.to(identity::auth::logout_all)
    }),
    route(Method::GET, "/api/v2/me", Bearer, API, |r| {
        r.to(identity::me::get_me)
    }),
    route(Method::PATCH, "/api/v2/me", Bearer, API, |r| {
        r.to(identity::me::update_me)
    }),
    route(Method::DELETE, "/api/v2/me", Bearer, API, |r| {
        r.to(identity::me::delete_me)
    }),
    route(Method::GET, "/api/v2/me/export", Bearer, API, |r| {
        r.to(identity::me::export_me)
    }),
    route(
        Method::POST,
        "/api/v2/me/phone/verification",
        Bearer,
        PHONE_CODE,
        |r| r.to(identity::phone::request_code),
    ),
    route(
        Method::POST,
        "/api/v2/me/phone/verification/confirm",
        Bearer,
        API,
        |r| r.to(identity::phone::confirm),
    ),
    // admin
    route(Method::GET, "/api/v2/admin/tenants", AdminKey, API, |r| {
        r.to(admin::tenants::list_tenants)
    }),
    route(Method::POST, "/api/v2/admin/tenants", AdminKey, API, |r| {
        r.to(admin::tenants::create_tenant)
    }),
    route(
        Method::GET,
        "/api/v2/admin/tenants/{id}",
        AdminKey,
        API,
        |r| r.to(admin::tenants::get_tenant),
    ),
    route(
        Method::PATCH,
        "/api/v2/admin/users/{id}",
        AdminKey,
        API,
        |r| r.to(admin::users::update_user),
    ),
    route(Method::GET, "/api/v2/admin/audit-log", AdminKey, API, |r| {
        r.to(admin::audit_log::audit_log)
    }),
    route(Method::GET, "/api/v2/admin/sms-log", AdminKey, API, |r| {
        r.to(admin::sms_log::sms_log)
    }),
    route(
        Method::GET,
        "/api/v2/admin/feature-flags",
        AdminKey,
        API,
        |r| r.to(admin::feature_flags::get_flags),
    ),
    route(
        Method::PATCH,
        "/api/v2/admin/feature-flags",
        AdminKey,
        API,
        |r| r.to(admin::feature_flags::update_flags),
    ),
    route(
        Method::POST,
        "/api/v2/admin/feature-flags/reload",
        AdminKey,
        API,
        |r| r.to(admin::feature_flags::reload_flags),
    ),
    route(
        Method::GET,
        "/api/v2/admin/database-status",
        AdminKey,
        API,
        |r| r.to(admin::database_status::database_status),
    ),
    route(
        Method::GET,
        "/api/v2/admin/compliance-audit",
        AdminKey,
        API,
        |r| r.to(admin::compliance_audit::compliance_audit),
    ),
    // catalog
    route(Method::GET, "/api/v2/catalog", Anyone, API, |r| {
        r.to(catalog::routes::list_catalog)
    }),
    route(Method::GET, "/api/v2/catalog/{id}", Anyone, API, |r| {
        r.to(catalog::routes::get_catalog_plant)
    }),
    route(Method::GET, "/api/v2/personalities", Anyone, API, |r| {
        r.to(catalog::routes::list_personalities)
    }),
    // plants and chat
    route(Method::GET, "/api/v2/plants", Bearer, API, |r| {
        r.to(plants::routes::list_plants)
    }),
    idempotent(route(
        Method::POST,
        "/api/v2/plants",
        Bearer,
        PLANTS_CREATE,
        |r| r.to(plants::routes::create_plant),
    )),
    route(Method::GET, "/api/v2/plants/{id}", Bearer, API, |r| {
        r.to(plants::routes::get_plant)
    }),
    route(Method::PATCH, "/api/v2/plants/{id}", Bearer, API, |r| {
        r.to(plants::routes::update_plant)
    }),
    route(Method::DELETE, "/api/v2/plants/{id}", Bearer, API, |r| {
        r.to(plants::routes::delete_plant)
    }),
    route(
        Method::POST,
        "/api/v2/plants/{id}/water",
        Bearer,
        API,
        |r| r.to(plants::routes::water_plant),
    ),
    idempotent(route(
        Method::POST,
        "/api/v2/plants/{id}/chat",
        Bearer,
        CHAT,
        |r| r.to(plants::chat::chat),
    )),
    route(
        Method::GET,
        "/api/v2/plants/{id}/messages",
        Bearer,
        API,
        |r| r.to(plants::chat::messages),
    ),
    // gardens
    route(Method::GET, "/api/v2/gardens", Bearer, API, |r| {
        r.to(gardens::routes::list_gardens)
    }),
    idempotent(route(Method::POST, "/api/v2/gardens", Bearer, API, |r| {
        r.to(gardens::routes::create_garden)
    })),
    route(Method::GET, "/api/v2/gardens/{id}", Bearer, API, |r| {
        r.to(gardens::routes::get_garden)
    }),
    route(Method::PATCH, "/api/v2/gardens/{id}", Bearer, API, |r| {
        r.to(gardens::routes::update_garden)
    }),
    route(Method::DELETE, "/api/v2/gardens/{id}", Bearer, API, |r| {
        r.to(gardens::routes::delete_garden)
    }),
    route(
        Method::GET,
        "/api/v2/gardens/{id}/plantings",
        Bearer,
        API,
        |r| r.to(gardens::plantings::list_plantings),
    ),
    idempotent(route(
        Method::POST,
        "/api/v2/gardens/{id}/plantings",
        Bearer,
        API,
        |r| r.to(gardens::plantings::create_planting),
    )),
    route(
        Method::GET,
        "/api/v2/gardens/{id}/analysis",
        Bearer,
        API,
        |r| r.to(gardens::routes::analyse_garden),
    ),
    route(
        Method::GET,
        "/api/v2/gardens/{id}/layout",
        Bearer,
        API,
        |r| r.to(gardens::routes::garden_layout),
    ),
    route(Method::GET, "/api/v2/plantings/{id}", Bearer, API, |r| {
        r.to(gardens::plantings::get_planting)
    }),
    route(Method::PATCH, "/api/v2/plantings/{id}", Bearer, API, |r| {
        r.to(gardens::plantings::update_planting)
    }),
    route(Method::DELETE, "/api/v2/plantings/{id}", Bearer, API, |r| {
        r.to(gardens::plantings::delete_planting)
    }),
    route(
        Method::GET,
        "/api/v2/plantings/{id}/events",
        Bearer,
        API,
        |r| r.to(gardens::plantings::list_events),
    ),
    idempotent(route(
        Method::POST,
        "/api/v2/plantings/{id}/events",
        Bearer,
        API,
        |r| r.to(gardens::plantings::create_event),
    )),
    route(Method::GET, "/api/v2/compliance/audit", Bearer, API, |r| {
        r.to(gardens::compliance::tenant_audit)
    }),
    // webhooks
    route(
        Method::POST,
        "/api/v2/webhooks/twilio/sms",
        TwilioSignature,
        WEBHOOK,
        |r| r.to(webhooks::twilio::inbound_sms),
    ),
    route(
        Method::POST,
        "/api/v2/webhooks/twilio/status",
        TwilioSignature,
        WEBHOOK,
        |r| r.to(webhooks::twilio::delivery_status),
    ),
];

/// One distinct pattern of the table: the router's matcher for it and the methods it allows.
struct PatternEntry {
    definition: ResourceDef,
    pattern: &'static str,
    allow: String,
}

/// The table's distinct patterns, in table order.
static PATTERNS: LazyLock<Vec<PatternEntry>> = LazyLock::new(|| {
    let mut patterns: Vec<PatternEntry> = Vec::new();
    for spec in ROUTES {
        if !patterns.iter().any(|seen| seen.pattern == spec.pattern) {
            patterns.push(PatternEntry {
                definition: ResourceDef::new(spec.pattern),
                pattern: spec.pattern,
                allow: allowed_methods(spec.pattern),
            });
        }
    }
    patterns
});

/// What the router will make of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// A handler: this route.
    Route(&'static RouteSpec),
    /// A known path with another method: 405.
    WrongMethod(&'static str),
    /// No route: 404.
    Unknown,
}

impl PartialEq for RouteSpec {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method && self.pattern == other.pattern
    }
}

impl Eq for RouteSpec {}

/// Resolves `decoded_path` — the router's view of the path, `ServiceRequest::match_info()` —
/// and `method` against the table, as the router will. HEAD is the GET route of the path, with
/// its policies (RFC 9110 §9.3.2: the same answer without the body).
#[must_use]
pub fn resolve(method: &Method, decoded_path: &str) -> Resolution {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    let Some(entry) = PATTERNS
        .iter()
        .find(|entry| entry.definition.is_match(decoded_path))
    else {
        return Resolution::Unknown;
    };
    ROUTES
        .iter()
        .find(|spec| spec.pattern == entry.pattern && spec.method == method)
        .map_or(Resolution::WrongMethod(entry.pattern), Resolution::Route)
}

/// The route of a request, resolved once and kept in its extensions for every middleware that
/// asks after it.
pub(crate) fn route_of(req: &ServiceRequest) -> Resolution {
    if let Some(resolution) = req.extensions().get::<Resolution>() {
        return *resolution;
    }
    let resolution = resolve(req.method(), req.match_info().as_str());
    req.extensions_mut().insert(resolution);
    resolution
}

/// The methods served at `pattern`, for `Allow`: HEAD wherever GET is.
fn allowed_methods(pattern: &str) -> String {
    let mut methods = Vec::new();
    for spec in ROUTES.iter().filter(|spec| spec.pattern == pattern) {
        methods.push(spec.method.as_str());
        if spec.method == Method::GET {
            methods.push(Method::HEAD.as_str());
        }
    }
    methods.join(", ")
}

/// Registers every route of the table, one resource per pattern, each answering 405 with
/// `Allow` for the methods it does not serve.
pub fn configure(config: &mut web::ServiceConfig) {
    for entry in PATTERNS.iter() {
        // Named by its pattern: `match_name()` then tells the route without an allocation.
        let mut resource = resource(entry.pattern, &entry.allow).name(entry.pattern);
        for spec in ROUTES.iter().filter(|spec| spec.pattern == entry.pattern) {
            resource = resource.route((spec.handler)(web::method(spec.method.clone())));
            // actix sends a HEAD answer's headers without its body.
            if spec.method == Method::GET {
                resource = resource.route((spec.handler)(web::method(Method::HEAD)));
            }
        }
        config.service(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_spellings_resolve_to_the_same_route_and_unknown_ones_to_none() {
        let login = resolve(&Method::POST, "/api/v2/auth/login");
        assert!(matches!(login, Resolution::Route(spec) if spec.pattern == "/api/v2/auth/login"));
        assert_eq!(
            resolve(&Method::GET, "/api/v2/auth/login"),
            Resolution::WrongMethod("/api/v2/auth/login")
        );
        assert_eq!(
            resolve(&Method::POST, "/api/v2/auth/login/"),
            Resolution::Unknown
        );
        assert_eq!(
            resolve(&Method::POST, "/api/v2/auth%2Flogin"),
            Resolution::Unknown
        );
        let head = resolve(&Method::HEAD, "/api/v2/catalog");
        assert!(matches!(head, Resolution::Route(spec) if spec.method == Method::GET));
        let chat = resolve(&Method::POST, "/api/v2/plants/anything/chat");
        assert!(matches!(chat, Resolution::Route(spec) if spec.policies.contains(&Policy::CHAT)));
    }

    #[test]
    fn every_route_declares_its_policies_coarse_before_fine() {
        for spec in ROUTES {
            assert!(
                !spec.policies.is_empty(),
                "{} {} declares no rate-limit policy",
                spec.method,
                spec.pattern
            );
            if spec.pattern.starts_with("/api/v2/") && spec.access != TwilioSignature {
                assert_eq!(
                    &spec.policies[..2],
                    &[Policy::GLOBAL, Policy::API],
                    "{} {} must start with the global and api policies",
                    spec.method,
                    spec.pattern
                );
            }
            if spec.access == TwilioSignature {
                assert_eq!(spec.policies, [Policy::WEBHOOK], "{}", spec.pattern);
            }
            if spec.idempotent {
                assert_eq!(spec.method, Method::POST);
                assert_eq!(spec.access, Bearer);
            }
        }
    }

    #[test]
    fn allow_lists_every_method_of_a_pattern() {
        assert_eq!(allowed_methods("/api/v2/me"), "GET, HEAD, PATCH, DELETE");
        assert_eq!(allowed_methods("/api/v2/auth/login"), "POST");
    }
}
