//! The platform admin API: key checks, tenants, user deactivation and the audit log.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, Backend, PASSWORD, on_both_backends, spawn_app, spawn_app_with};

const NEXT_KEY: &str = "the-next-admin-key-after-rotation-0123456789";

async fn audit_entries(app: &crate::helpers::TestApp) -> Vec<Value> {
    let response = app
        .admin(
            Method::GET,
            Some(ADMIN_KEY),
            "/api/v2/admin/audit-log?limit=100",
            None,
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    response.json()["items"].as_array().unwrap().clone()
}

on_both_backends! {
    async fn a_missing_or_wrong_key_is_refused_and_audited(backend: Backend) {
        let app = spawn_app(backend).await;
        let missing = app.admin(Method::GET, None, "/api/v2/admin/tenants", None).await;
        assert_eq!(missing.status, 403);
        assert_eq!(missing.json()["code"], "ERR_ADMIN_002");
        let wrong = app
            .admin(Method::GET, Some("a-guess-at-the-admin-key-0123456789"), "/api/v2/admin/tenants", None)
            .await;
        assert_eq!(wrong.status, 403);
        let refused: Vec<Value> = audit_entries(&app)
            .await
            .into_iter()
            .filter(|e| e["outcome"] == "refused")
            .collect();
        assert_eq!(refused.len(), 2);
        assert_eq!(refused[0]["actor"], "unknown");
        assert_eq!(refused[0]["action"], "GET /api/v2/admin/tenants");
    }

    async fn without_a_configured_key_the_admin_api_is_closed(backend: Backend) {
        let app = spawn_app_with(backend, &[("ADMIN_API_KEY", "")]).await;
        let response = app
            .admin(Method::GET, Some(ADMIN_KEY), "/api/v2/admin/tenants", None)
            .await;
        assert_eq!(response.status, 403);
        assert_eq!(response.json()["code"], "ERR_ADMIN_001");
    }

    async fn both_keys_work_during_a_rotation_and_are_told_apart_in_the_log(backend: Backend) {
        let keys = format!("{ADMIN_KEY},{NEXT_KEY}");
        let app = spawn_app_with(backend, &[("ADMIN_API_KEY", keys.as_str())]).await;
        for key in [ADMIN_KEY, NEXT_KEY] {
            let response = app.admin(Method::GET, Some(key), "/api/v2/admin/tenants", None).await;
            assert_eq!(response.status, 200);
        }
        let actors: Vec<String> = audit_entries(&app)
            .await
            .iter()
            .filter(|e| e["action"] == "tenants.list")
            .map(|e| e["actor"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(actors.len(), 2);
        assert_ne!(actors[0], actors[1]);
        assert!(actors.iter().all(|actor| actor.starts_with("key:") && !actor.contains(ADMIN_KEY)));
    }

    async fn tenants_are_created_listed_and_their_slugs_unique(backend: Backend) {
        let app = spawn_app(backend).await;
        let created = app
            .admin(
                Method::POST,
                Some(ADMIN_KEY),
                "/api/v2/admin/tenants",
                Some(&json!({"slug": "greenhouse", "name": " The Greenhouse "})),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let tenant = created.json();
        assert_eq!(tenant["signup_open"], true);
        assert_eq!(tenant["name"], "The Greenhouse");
        let location = created.header("location").unwrap().to_owned();
        let fetched = app.admin(Method::GET, Some(ADMIN_KEY), &location, None).await;
        assert_eq!(fetched.json()["slug"], "greenhouse");

        let duplicate = app
            .admin(Method::POST, Some(ADMIN_KEY), "/api/v2/admin/tenants", Some(&json!({"slug": "greenhouse", "name": "x"})))
            .await;
        assert_eq!(duplicate.status, 409);
        assert_eq!(duplicate.json()["code"], "ERR_TENANT_003");
        let invalid = app
            .admin(Method::POST, Some(ADMIN_KEY), "/api/v2/admin/tenants", Some(&json!({"slug": "No"})))
            .await;
        assert_eq!(invalid.status, 422);
        assert_eq!(invalid.json()["errors"].as_array().unwrap().len(), 2);

        let first = app
            .admin(Method::GET, Some(ADMIN_KEY), "/api/v2/admin/tenants?limit=1", None)
            .await
            .json();
        assert_eq!(first["items"][0]["slug"], "demo");
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = app
            .admin(Method::GET, Some(ADMIN_KEY), &format!("/api/v2/admin/tenants?limit=1&cursor={cursor}"), None)
            .await
            .json();
        assert_eq!(second["items"][0]["slug"], "greenhouse");
        assert_eq!(second["next_cursor"], Value::Null);
        let too_many = app
            .admin(Method::GET, Some(ADMIN_KEY), "/api/v2/admin/tenants?limit=101", None)
            .await;
        assert_eq!(too_many.status, 422);
        assert_eq!(too_many.json()["errors"][0]["field"], "limit");
    }

    async fn deactivation_ends_every_session_and_login_says_so_only_with_the_password(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let response = app
            .admin(
                Method::PATCH,
                Some(ADMIN_KEY),
                &format!("/api/v2/admin/users/{}", user.id),
                Some(&json!({"is_active": false})),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        assert_eq!(response.json()["is_active"], false);

        assert_eq!(app.get_as(&user.access_token, "/api/v2/me").await.status, 401);
        let refresh = app.refresh(&user.refresh_token).await;
        assert_eq!(refresh.status, 401);
        let login = app.login("demo", "ada@example.com", PASSWORD).await;
        assert_eq!(login.status, 403);
        assert_eq!(login.json()["code"], "ERR_AUTH_003");
        assert_eq!(app.login("demo", "ada@example.com", "a wrong password").await.status, 401);

        let entry = audit_entries(&app)
            .await
            .into_iter()
            .find(|e| e["action"] == "users.update")
            .unwrap();
        assert_eq!(entry["old"]["is_active"], true);
        assert_eq!(entry["new"]["is_active"], false);
        assert_eq!(entry["target"], format!("user:{}", user.id));
        assert_eq!(entry["outcome"], "success");

        app.admin(
            Method::PATCH,
            Some(ADMIN_KEY),
            &format!("/api/v2/admin/users/{}", user.id),
            Some(&json!({"is_active": true, "role": "admin"})),
        )
        .await;
        assert_eq!(app.login("demo", "ada@example.com", PASSWORD).await.status, 200);
    }

    async fn an_unknown_user_is_404(backend: Backend) {
        let app = spawn_app(backend).await;
        let response = app
            .admin(
                Method::PATCH,
                Some(ADMIN_KEY),
                &format!("/api/v2/admin/users/{}", uuid::Uuid::now_v7()),
                Some(&json!({"role": "admin"})),
            )
            .await;
        assert_eq!(response.status, 404);
        assert_eq!(response.json()["code"], "ERR_RESOURCE_001");
    }
}

on_both_backends! {
    async fn a_call_with_a_valid_key_refused_for_its_body_is_audited_as_invalid(backend: Backend) {
        let app = spawn_app(backend).await;
        let malformed = app
            .send(
                |client, url| {
                    client
                        .post(url)
                        .header("X-Admin-API-Key", ADMIN_KEY)
                        .header("Content-Type", "application/json")
                        .body("{\"slug\": ")
                },
                "/api/v2/admin/tenants",
            )
            .await;
        assert_eq!(malformed.status, 400, "{}", malformed.body);
        let invalid = app
            .admin(
                Method::PATCH,
                Some(ADMIN_KEY),
                "/api/v2/admin/users/0190a5d0-0000-7000-8000-000000000000",
                Some(&json!({"role": "emperor"})),
            )
            .await;
        assert_eq!(invalid.status, 422, "{}", invalid.body);

        let entries = audit_entries(&app).await;

        let invalid: Vec<(&str, &str)> = entries
            .iter()
            .filter(|entry| entry["outcome"] == "invalid")
            .map(|entry| (entry["action"].as_str().unwrap(), entry["target"].as_str().unwrap_or("")))
            .collect();
        assert_eq!(
            invalid,
            [
                ("users.update", "user:0190a5d0-0000-7000-8000-000000000000"),
                ("tenants.create", ""),
            ],
            "newest first"
        );
    }
}

async fn sms_log_page(app: &crate::helpers::TestApp, query: &str) -> crate::helpers::TestResponse {
    app.admin(
        Method::GET,
        Some(ADMIN_KEY),
        &format!("/api/v2/admin/sms-log{query}"),
        None,
    )
    .await
}

on_both_backends! {
    async fn the_sms_log_masks_numbers_filters_and_pages(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let patched = app
            .patch_json_as(&user.access_token, "/api/v2/me", &json!({"phone": "+14155552671"}))
            .await;
        assert_eq!(patched.status, 200);
        for _ in 0..3 {
            let sent = app
                .post_json_as(&user.access_token, "/api/v2/me/phone/verification", &json!({}))
                .await;
            assert_eq!(sent.status, 202, "{}", sent.body);
        }
        let first = sms_log_page(&app, "?limit=2").await;

        assert_eq!(first.status, 200, "{}", first.body);
        let page = first.json();
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["to"], "+1415***2671");
        assert!(!first.body.contains("+14155552671"), "no full number");
        assert_eq!(items[0]["body"], "Plant Texts code: ******", "codes are never shown");
        assert_eq!(items[0]["status"], "demo");
        assert_eq!(items[0]["user_id"], user.id.as_str());
        let cursor = page["next_cursor"].as_str().unwrap().to_owned();
        let rest = sms_log_page(&app, &format!("?limit=2&cursor={cursor}")).await.json();
        assert_eq!(rest["items"].as_array().unwrap().len(), 1);
        assert!(rest["next_cursor"].is_null());
        let none_failed = sms_log_page(&app, "?status=failed").await.json();
        assert_eq!(none_failed["items"].as_array().unwrap().len(), 0);
        let bad = sms_log_page(&app, "?status=lost&since=yesterday").await;
        assert_eq!(bad.status, 422);
        let fields: Vec<String> = bad.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|error| error["field"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(fields, ["status", "since"]);
        let refused = app.admin(Method::GET, None, "/api/v2/admin/sms-log", None).await;
        assert_eq!(refused.status, 403);
    }
}
