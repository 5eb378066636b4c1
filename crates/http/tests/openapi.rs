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

#[test]
fn the_document_and_the_route_table_describe_the_same_operations_and_security() {
    use plant_texts_http::route_table::{Access, ROUTES};

    let document = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
    let mut documented = std::collections::BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            documented.insert((method.to_uppercase(), path.clone()));
            let security = operation["security"].to_string();
            let route = ROUTES
                .iter()
                .find(|route| {
                    route.pattern == path && route.method.as_str() == method.to_uppercase()
                })
                .unwrap_or_else(|| panic!("{method} {path} is documented but not routed"));
            match route.access {
                Access::Bearer => assert!(security.contains("bearer"), "{method} {path}"),
                Access::AdminKey => assert!(security.contains("admin_key"), "{method} {path}"),
                Access::Anyone | Access::TwilioSignature => {
                    assert!(!security.contains("bearer"), "{method} {path}");
                }
            }
            assert_eq!(
                operation["parameters"]
                    .to_string()
                    .contains("Idempotency-Key"),
                route.idempotent,
                "{method} {path} declares Idempotency-Key as the table says"
            );
        }
    }
    let routed: std::collections::BTreeSet<_> = ROUTES
        .iter()
        .filter(|route| route.documented)
        .map(|route| (route.method.as_str().to_owned(), route.pattern.to_owned()))
        .collect();
    assert_eq!(documented, routed);
}
