//! Every error path answers an RFC 9457 problem document. Extra routes mounted behind the real
//! middleware and extractor configuration stand in for the JSON endpoints of later capabilities.

mod support;

use actix_web::{
    HttpResponse,
    body::MessageBody,
    dev::{Service, ServiceResponse},
    http::{StatusCode, header},
    test, web,
};
use plant_texts_http::{build_app, json_body::JsonBody};
use serde_json::Value;

#[derive(serde::Deserialize)]
struct Greeting {
    #[expect(dead_code, reason = "only its presence is checked")]
    name: String,
}

async fn greet(_body: JsonBody<Greeting>) -> HttpResponse {
    HttpResponse::Created().finish()
}

async fn explode() -> HttpResponse {
    panic!("database password is hunter2");
}

fn extra_routes(config: &mut web::ServiceConfig) {
    config
        .route("/test/greetings", web::post().to(greet))
        .route("/test/panic", web::get().to(explode));
}

async fn call(expose: bool, request: test::TestRequest) -> (StatusCode, header::HeaderMap, Value) {
    let app = test::init_service(build_app(
        support::state(expose, &[], false).await,
        extra_routes,
    ))
    .await;
    let response = match app.call(request.to_request()).await {
        Ok(response) => response.map_into_boxed_body(),
        // An error that left the middleware carries its finished response.
        Err(error) => ServiceResponse::new(
            test::TestRequest::default().to_http_request(),
            error.error_response(),
        ),
    };
    read(response).await
}

async fn read(
    response: ServiceResponse<impl MessageBody>,
) -> (StatusCode, header::HeaderMap, Value) {
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, headers, json)
}

fn assert_problem(headers: &header::HeaderMap, body: &Value, status: u16, code: &str) {
    assert_eq!(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code);
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    assert!(
        !body["request_id"].as_str().unwrap_or_default().is_empty(),
        "{body}"
    );
    assert!(headers.contains_key("x-request-id"));
}

fn greeting(body: &'static str) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/test/greetings")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body)
}

#[actix_web::test]
async fn well_formed_json_reaches_the_handler() {
    let (status, _, _) = call(false, greeting(r#"{"name": "Fern"}"#)).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem() {
    let (status, headers, body) = call(false, greeting(r#"{"name": "#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_problem(&headers, &body, 400, "ERR_REQUEST_001");
}

#[actix_web::test]
async fn json_without_a_required_field_is_a_422_problem_naming_the_field() {
    let (status, headers, body) = call(false, greeting(r#"{"nom": "Fern"}"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_problem(&headers, &body, 422, "ERR_VALIDATION_001");
    assert_eq!(body["errors"][0]["field"], "name");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("missing field `name`")
    );
}

#[actix_web::test]
async fn a_field_of_the_wrong_json_type_is_a_422_problem_naming_the_field() {
    let (status, headers, body) = call(false, greeting(r#"{"name": 7}"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_problem(&headers, &body, 422, "ERR_VALIDATION_001");
    assert_eq!(body["errors"][0]["field"], "name");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("invalid type: integer `7`, expected a string"),
        "{body}"
    );
}

#[actix_web::test]
async fn a_json_document_that_is_not_an_object_is_a_422_problem_naming_the_body() {
    let (status, _, body) = call(false, greeting("[1, 2]")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "body");
}

#[actix_web::test]
async fn a_wrong_content_type_is_a_415_problem() {
    let request = test::TestRequest::post()
        .uri("/test/greetings")
        .insert_header((header::CONTENT_TYPE, "text/plain"))
        .set_payload(r#"{"name": "Fern"}"#);
    let (status, headers, body) = call(false, request).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_problem(&headers, &body, 415, "ERR_REQUEST_002");
}

#[actix_web::test]
async fn an_oversized_body_is_a_413_problem() {
    let big = Box::leak(format!(r#"{{"name": "{}"}}"#, "x".repeat(2048)).into_boxed_str());
    let (status, headers, body) = call(false, greeting(big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_problem(&headers, &body, 413, "ERR_REQUEST_003");
    assert_eq!(
        body["detail"],
        "The request body is larger than 1024 bytes."
    );
}

#[actix_web::test]
async fn an_unknown_route_is_a_404_problem() {
    let (status, headers, body) = call(false, test::TestRequest::get().uri("/nowhere")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_problem(&headers, &body, 404, "ERR_ROUTE_001");
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_problem_with_allow() {
    let (status, headers, body) = call(false, test::TestRequest::put().uri("/health/live")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_problem(&headers, &body, 405, "ERR_ROUTE_002");
    assert_eq!(headers.get(header::ALLOW).unwrap(), "GET, HEAD");
}

#[actix_web::test]
async fn a_panic_is_a_500_problem_without_internal_detail() {
    let (status, headers, body) = call(false, test::TestRequest::get().uri("/test/panic")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_problem(&headers, &body, 500, "ERR_INTERNAL_001");
    assert!(!body.to_string().contains("hunter2"), "{body}");
}

#[actix_web::test]
async fn a_panic_shows_its_detail_in_development_only() {
    let (status, _, body) = call(true, test::TestRequest::get().uri("/test/panic")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("a handler panicked"),
        "{body}"
    );
}

#[actix_web::test]
async fn the_server_keeps_serving_after_a_panic() {
    let app = test::init_service(build_app(
        support::state(false, &[], false).await,
        extra_routes,
    ))
    .await;
    let _ = app
        .call(test::TestRequest::get().uri("/test/panic").to_request())
        .await;
    let response = app
        .call(test::TestRequest::get().uri("/health/live").to_request())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[actix_web::test]
async fn readiness_turns_503_once_shutdown_begins() {
    let state = support::state(false, &[], false).await;
    let lifecycle = state.lifecycle.clone();
    let app = test::init_service(build_app(state, |_| {})).await;
    let ready = app
        .call(test::TestRequest::get().uri("/ready").to_request())
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    lifecycle.begin_shutdown();

    let draining = app
        .call(test::TestRequest::get().uri("/health/ready").to_request())
        .await
        .unwrap();
    let (status, _, body) = read(draining).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["reason"], "shutting_down");
}

#[actix_web::test]
async fn an_error_response_from_actix_itself_is_turned_into_a_problem() {
    async fn plain_text_error() -> HttpResponse {
        HttpResponse::BadRequest().body("plain text from somewhere")
    }
    let app = test::init_service(build_app(
        support::state(false, &[], false).await,
        |config| {
            config.route("/test/plain", web::get().to(plain_text_error));
        },
    ))
    .await;
    let response = app
        .call(test::TestRequest::get().uri("/test/plain").to_request())
        .await
        .unwrap();
    let (status, headers, body) = read(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
    assert_eq!(body["status"], 400);
}

#[actix_web::test]
async fn a_query_that_does_not_parse_is_a_422_problem() {
    #[derive(serde::Deserialize)]
    struct Page {
        #[expect(dead_code, reason = "only parsing is checked")]
        limit: u8,
    }
    async fn page(_query: web::Query<Page>) -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    let app = test::init_service(build_app(
        support::state(false, &[], false).await,
        |config| {
            config.route("/test/page", web::get().to(page));
        },
    ))
    .await;
    let response = app
        .call(
            test::TestRequest::get()
                .uri("/test/page?limit=many")
                .to_request(),
        )
        .await
        .unwrap();
    let (status, headers, body) = read(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_problem(&headers, &body, 422, "ERR_VALIDATION_001");
    assert_eq!(body["errors"][0]["field"], "query");
}
