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
fn the_committed_docs_openapi_json_is_the_served_document() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed.trim_end() == plant_texts_http::ops::docs::openapi_json(),
        "docs/openapi.json differs from the served document: run `cargo xtask openapi` and commit it"
    );
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
        "/ready",
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

#[test]
fn every_operation_declares_the_edge_problems_and_the_example_code_exists() {
    let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
    let codes = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/api-errors.md"
    ))
    .unwrap();
    let example = document["components"]["schemas"]["Problem"]["example"]["code"]
        .as_str()
        .unwrap();
    assert!(
        codes.contains(&format!("`{example}`")),
        "{example} is not in docs/api-errors.md"
    );
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            for status in ["400", "405", "429", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lacks {status}"
                );
            }
            if operation.get("requestBody").is_some() {
                for status in ["413", "415"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
            }
        }
    }
}
