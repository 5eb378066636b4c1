//! The caller's own account: read, change, export and erase, on both databases.

use serde_json::json;

use crate::helpers::{Backend, PASSWORD, on_both_backends, spawn_app};

const NEW_PASSWORD: &str = "lavender fields in june";

on_both_backends! {
    async fn name_phone_and_sms_consent_change_without_the_password(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let response = app
            .patch_json_as(
                &user.access_token,
                "/api/v2/me",
                &json!({"full_name": " Ada King ", "phone": "+447700900123", "sms_opt_in": true}),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        let me = response.json();
        assert_eq!(me["full_name"], "Ada King");
        assert_eq!(me["phone"], "+447700900123");
        assert_eq!(me["sms_opt_in"], true);
        let removed = app
            .patch_json_as(&user.access_token, "/api/v2/me", &json!({"phone": null}))
            .await;
        assert_eq!(removed.json()["phone"], serde_json::Value::Null);
        assert_eq!(removed.json()["full_name"], "Ada King");
    }

    async fn a_password_change_requires_the_current_password(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let without = app
            .patch_json_as(&user.access_token, "/api/v2/me", &json!({"password": NEW_PASSWORD}))
            .await;
        assert_eq!(without.status, 422);
        assert_eq!(without.json()["errors"][0]["field"], "current_password");
        let wrong = app
            .patch_json_as(
                &user.access_token,
                "/api/v2/me",
                &json!({"password": NEW_PASSWORD, "current_password": "not my password"}),
            )
            .await;
        assert_eq!(wrong.status, 403);
        assert_eq!(wrong.json()["code"], "ERR_AUTH_004");
        let weak = app
            .patch_json_as(
                &user.access_token,
                "/api/v2/me",
                &json!({"password": "qwerty123456", "current_password": PASSWORD}),
            )
            .await;
        assert_eq!(weak.status, 422);
        assert_eq!(weak.json()["errors"][0]["field"], "password");
        assert_eq!(app.login("demo", "ada@example.com", PASSWORD).await.status, 200);
    }

    async fn a_password_change_ends_every_session_and_the_new_password_logs_in(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let changed = app
            .patch_json_as(
                &user.access_token,
                "/api/v2/me",
                &json!({"password": NEW_PASSWORD, "current_password": PASSWORD}),
            )
            .await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        assert_eq!(app.get_as(&user.access_token, "/api/v2/me").await.status, 401);
        let refresh = app.refresh(&user.refresh_token).await;
        assert_eq!(refresh.status, 401);
        assert_eq!(app.login("demo", "ada@example.com", PASSWORD).await.status, 401);
        assert_eq!(app.login("demo", "ada@example.com", NEW_PASSWORD).await.status, 200);
    }

    async fn the_export_holds_the_account_and_its_sessions_without_secrets(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let response = app.get_as(&user.access_token, "/api/v2/me/export").await;
        assert_eq!(response.status, 200, "{}", response.body);
        let export = response.json();
        assert_eq!(export["user"]["id"], user.id.as_str());
        assert_eq!(export["user"]["email"], "ada@example.com");
        assert_eq!(export["sessions"].as_array().unwrap().len(), 1);
        for table in ["user_plants", "messages", "sms_log"] {
            assert!(export["records"][table].is_array(), "{table}");
        }
        assert!(!response.body.contains("argon2"));
        assert!(!response.body.contains(&user.refresh_token));
    }

    async fn erasure_needs_the_password_then_removes_the_account_and_its_tokens(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let wrong = app
            .delete_json_as(&user.access_token, "/api/v2/me", &json!({"password": "not my password"}))
            .await;
        assert_eq!(wrong.status, 403);
        assert_eq!(wrong.json()["code"], "ERR_AUTH_004");

        let erased = app
            .delete_json_as(&user.access_token, "/api/v2/me", &json!({"password": PASSWORD}))
            .await;
        assert_eq!(erased.status, 204, "{}", erased.body);
        assert_eq!(app.get_as(&user.access_token, "/api/v2/me").await.status, 401);
        let refresh = app.refresh(&user.refresh_token).await;
        assert_eq!(refresh.status, 401);
        assert_eq!(app.login("demo", "ada@example.com", PASSWORD).await.status, 401);
        // The email is free again.
        assert_eq!(app.register("demo", "ada@example.com", PASSWORD).await.status, 201);
    }
}
