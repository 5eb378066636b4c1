use std::rc::Rc;

use actix_web::{
    App, HttpRequest, HttpResponse, Resource,
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    error::{JsonPayloadError, PathError, QueryPayloadError},
    middleware::from_fn,
    web,
};

use crate::{
    ApiState,
    errors::{ApiError, FieldError},
    middleware::{
        allowed_hosts::{HostCheck, check_host},
        catch_panic::catch_panic,
        cors,
        idempotency::{Replays, replay_idempotent},
        metrics::count_request,
        no_store::forbid_storing_private_answers,
        problem_fallback::fill_problem_body,
        rate_limit::{RateLimits, limit_rate},
        request_id::assign_request_id,
        security_headers::add_security_headers,
        timeout::limit_duration,
    },
    route_table,
};

/// Builds the actix application: state, extractor configuration, middleware and every route.
///
/// `extra_routes` lets tests mount routes of their own behind the same middleware; the server
/// passes a no-op.
pub fn build_app(
    state: ApiState,
    extra_routes: impl FnOnce(&mut web::ServiceConfig),
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let settings = &state.settings;
    let max_body_bytes = settings.max_body_bytes;
    let cors = cors::cors(&settings.cors_origins);
    let http_metrics = state.observability.http.clone();
    let trace_sampling = settings.trace_sampling;
    let request_timeout = settings.request_timeout;
    let expose_internal_errors = settings.expose_internal_errors;
    let hsts = settings.hsts;
    let host_check = settings.allowed_hosts.clone().map(|allowed| {
        Rc::new(HostCheck {
            allowed,
            trusted_proxies: settings.trusted_proxies.clone(),
        })
    });
    let rate_limits = state.rate_limiter.clone().map(|limiter| {
        Rc::new(RateLimits {
            limiter,
            identity: state.identity.clone(),
            trusted_proxies: settings.trusted_proxies.clone(),
        })
    });
    let replays = Rc::new(Replays {
        idempotency: state.idempotency.clone(),
        identity: state.identity.clone(),
    });
    App::new()
        .app_data(web::Data::new(state))
        .app_data(json_config(max_body_bytes))
        .app_data(web::PayloadConfig::new(max_body_bytes))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .configure(route_table::configure)
        .configure(extra_routes)
        .default_service(web::to(route_not_found))
        .wrap(from_fn(move |req, next| {
            replay_idempotent(replays.clone(), req, next)
        }))
        .wrap(from_fn(move |req, next| {
            limit_rate(rate_limits.clone(), req, next)
        }))
        // Around the rate-limit and idempotency stores too: a stuck store is a stuck request.
        .wrap(from_fn(move |req, next| {
            limit_duration(request_timeout, req, next)
        }))
        .wrap(from_fn(move |req, next| {
            catch_panic(expose_internal_errors, req, next)
        }))
        // Inside the host check and the request id: a preflight, which CORS answers itself,
        // is refused for a foreign Host and carries X-Request-ID like every answer.
        .wrap(cors)
        .wrap(from_fn(cors::withhold_cors_from_other_origins))
        .wrap(from_fn(move |req, next| {
            check_host(host_check.clone(), req, next)
        }))
        // The problem safety net inside `no-store`: a body it replaces keeps the header.
        .wrap(from_fn(fill_problem_body))
        .wrap(from_fn(forbid_storing_private_answers))
        .wrap(from_fn(move |req, next| {
            assign_request_id(trace_sampling, req, next)
        }))
        .wrap(from_fn(move |req, next| {
            add_security_headers(hsts, req, next)
        }))
        .wrap(from_fn(move |req, next| {
            count_request(http_metrics.clone(), req, next)
        }))
}

/// JSON extraction: at most `max_body_bytes`, `application/json` required, and every failure
/// answered with a problem document.
#[must_use]
fn json_config(max_body_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(max_body_bytes)
        .content_type_required(true)
        .error_handler(move |error, _req| json_error(error, max_body_bytes).into())
}

fn json_error(error: JsonPayloadError, limit_bytes: usize) -> ApiError {
    match error {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge { limit_bytes }
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Deserialize(error) if error.is_data() => {
            ApiError::Validation(vec![FieldError {
                field: "body".to_owned(),
                message: error.to_string(),
            }])
        }
        JsonPayloadError::Deserialize(error) => ApiError::MalformedJson(error.to_string()),
        other => ApiError::MalformedJson(other.to_string()),
    }
}

fn query_error(error: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::Validation(vec![FieldError {
        field: "query".to_owned(),
        message: error.to_string(),
    }])
    .into()
}

fn path_error(_error: PathError, req: &HttpRequest) -> actix_web::Error {
    // A path that does not parse names no resource.
    ApiError::RouteNotFound {
        path: req.path().to_owned(),
    }
    .into()
}

async fn route_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound {
        path: req.path().to_owned(),
    })
}

/// A resource that answers 405 with `Allow: <allow>` and a problem body for every method it
/// has no route for.
pub(crate) fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move |req: HttpRequest| async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow,
        })
    }))
}
