//! The OpenAPI document and the Swagger UI, served from assets vendored into the binary.

use std::sync::OnceLock;

use actix_web::{HttpResponse, http::header::ContentType};
use utoipa::OpenApi as _;

use crate::{errors::Problem, openapi::ApiDoc};

const SWAGGER_UI_JS: &str = include_str!("../../assets/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_UI_CSS: &str = include_str!("../../assets/swagger-ui/swagger-ui.css");
const DOCS_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Plant Texts API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-initializer.js"></script>
</body>
</html>
"#;
const INITIALIZER: &str = r##"window.onload = function () {
  window.ui = SwaggerUIBundle({ url: "/api/v2/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
};
"##;

/// The document `GET /api/v2/openapi.json` serves, pretty-printed once; `cargo xtask openapi` writes
/// it to docs/openapi.json.
#[must_use]
pub fn openapi_json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default())
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/api/v2/openapi.json",
    tag = "ops",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"),
        (status = 500, description = "Unexpected error", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(openapi_json())
}

/// The docs page's own policy: our scripts and styles only (Swagger UI sets inline styles), data
/// from this origin, no framing.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
form-action 'none'";

pub(crate) async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header(("Content-Security-Policy", DOCS_CSP))
        .body(DOCS_PAGE)
}

pub(crate) async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(SWAGGER_UI_JS)
}

pub(crate) async fn initializer() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(INITIALIZER)
}

pub(crate) async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(SWAGGER_UI_CSS)
}
