//! The OpenAPI document is a contract: any change to it shows up in this snapshot and must be
//! accepted deliberately (`cargo insta review`).

use plant_texts_http::openapi::ApiDoc;
use utoipa::OpenApi as _;

#[test]
fn the_openapi_document_matches_the_snapshot() {
    let document = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
    insta::assert_json_snapshot!("openapi", document);
}

#[test]
fn the_document_is_openapi_3_1_with_both_security_schemes_and_the_problem_schema() {
    let document = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let components = &document["components"];
    assert_eq!(components["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert_eq!(
        components["securitySchemes"]["admin_key"]["name"],
        "X-Admin-API-Key"
    );
    assert!(components["schemas"]["Problem"].is_object());
    for path in [
        "/health",
        "/health/live",
        "/health/ready",
        "/api/v2/openapi.json",
    ] {
        assert!(
            document["paths"][path]["get"].is_object(),
            "{path} is documented"
        );
    }
}
