//! The tenant-admin guard: members are refused with 403, tenant administrators pass, and
//! callers without a token get 401.

#![expect(clippy::expect_used, reason = "a test helper fails the test loudly")]

mod support;

use actix_web::{HttpResponse, body::MessageBody, dev::ServiceResponse, test, web};
use plant_texts_http::{build_app, identity::extractors::TenantAdmin};
use serde_json::{Value, json};

const ADMIN_KEY: &str = "guard-test-admin-key-0123456789abcdef";
const PASSWORD: &str = "sunflower meadow at dawn";

async fn only_tenant_admins(TenantAdmin(principal): TenantAdmin) -> HttpResponse {
    HttpResponse::Ok().body(principal.user_id.to_string())
}

async fn body_json<B: MessageBody>(response: ServiceResponse<B>) -> Value {
    serde_json::from_slice(&test::read_body(response).await).expect("the body is JSON")
}

#[actix_web::test]
async fn only_an_administrator_of_the_tenant_passes_the_tenant_admin_guard() {
    let app = test::init_service(build_app(
        support::state(false, &[ADMIN_KEY], true).await,
        |config| {
            config.route("/test/tenant-admin", web::get().to(only_tenant_admins));
        },
    ))
    .await;
    let registered = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/api/v2/auth/register")
            .set_json(json!({"tenant": "demo", "email": "ada@example.com", "password": PASSWORD, "full_name": "Ada"}))
            .to_request(),
    )
    .await;
    assert_eq!(registered.status(), 201);
    let user_id = body_json(registered).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let login = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/api/v2/auth/login")
            .set_json(json!({"tenant": "demo", "email": "ada@example.com", "password": PASSWORD}))
            .to_request(),
    )
    .await;
    let token = body_json(login).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let guarded = || {
        test::TestRequest::get()
            .uri("/test/tenant-admin")
            .insert_header(("Authorization", format!("Bearer {token}")))
            .to_request()
    };

    let member = test::call_service(&app, guarded()).await;
    assert_eq!(member.status(), 403);
    assert_eq!(body_json(member).await["code"], "ERR_AUTH_006");

    let promoted = test::call_service(
        &app,
        test::TestRequest::patch()
            .uri(&format!("/api/v2/admin/users/{user_id}"))
            .insert_header(("X-Admin-API-Key", ADMIN_KEY))
            .set_json(json!({"role": "admin"}))
            .to_request(),
    )
    .await;
    assert_eq!(promoted.status(), 200);
    // The role is read from the account on every request, so the same token now passes.
    let admin = test::call_service(&app, guarded()).await;
    assert_eq!(admin.status(), 200);
    assert_eq!(test::read_body(admin).await, user_id.as_bytes());

    let anonymous = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/test/tenant-admin")
            .to_request(),
    )
    .await;
    assert_eq!(anonymous.status(), 401);
}
