//! The caller's own account: read, change, export and erase, on both databases.

use serde_json::json;

use crate::helpers::{ADMIN_KEY, Backend, PASSWORD, TestApp, on_both_backends, spawn_app};

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

    async fn the_export_holds_every_row_about_the_user_across_pages_and_nobody_elses(backend: Backend) {
        let app = spawn_app(backend).await;
        let other = app.signed_up("demo", "bob@example.com").await;
        let other_plant = app.add_plant(&other, "Snake Plant", "NotYours").await;
        app.chat(&other, other_plant["id"].as_str().unwrap(), "hello").await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let me = app.get_as(&user.access_token, "/api/v2/me").await.json();
        let plant = app.add_plant(&user, "Snake Plant", "Fern").await;
        let plant_id = plant["id"].as_str().unwrap();
        assert_eq!(app.chat(&user, plant_id, "how are you?").await.status, 200);
        insert_messages(&app, me["tenant_id"].as_str().unwrap(), plant_id, 450).await;
        app.patch_json_as(&user.access_token, "/api/v2/me", &json!({"phone": "+447700900123"})).await;
        let code = app.post_json_as(&user.access_token, "/api/v2/me/phone/verification", &json!({})).await;
        assert_eq!(code.status, 202, "{}", code.body);
        app.execute_sql(
            "INSERT INTO inbound_sms (message_sid, user_id, reply, received_at) VALUES (?, ?, ?, ?)",
            vec!["SM0001".into(), uuid::Uuid::parse_str(&user.id).unwrap().into(), "hi".into(), chrono::Utc::now().into()],
        )
        .await;
        let audited = app
            .admin(reqwest::Method::PATCH, Some(ADMIN_KEY), &format!("/api/v2/admin/users/{}", user.id), Some(&json!({"role": "admin"})))
            .await;
        assert_eq!(audited.status, 200, "{}", audited.body);
        let token = app.login("demo", "ada@example.com", PASSWORD).await.json()["access_token"].as_str().unwrap().to_owned();
        let garden = app.post_json_as(&token, "/api/v2/gardens", &json!({"name": "Plot", "width": 3, "length": 3})).await.json();
        let plantings = format!("/api/v2/gardens/{}/plantings", garden["id"].as_str().unwrap());
        let tomato = app.post_json_as(&token, &plantings, &json!({"catalog_plant_id": app.catalog_id("Tomato").await, "x": 0, "y": 0})).await.json();
        let event = app.post_json_as(&token, &format!("/api/v2/plantings/{}/events", tomato["id"].as_str().unwrap()), &json!({"kind": "watered"})).await;
        assert_eq!(event.status, 201, "{}", event.body);
        let kudzu = app.post_json_as(&token, &plantings, &json!({"catalog_plant_id": app.catalog_id("Kudzu").await, "x": 1, "y": 1})).await;
        assert_eq!(kudzu.status, 422, "refused, and audited");

        let response = app.get_as(&token, "/api/v2/me/export").await;

        assert_eq!(response.status, 200, "{}", response.body);
        let export = response.json();
        let records = &export["records"];
        let rows = |table: &str| records[table].as_array().unwrap_or_else(|| panic!("{table}")).clone();
        let account = rows("account");
        assert_eq!(account.len(), 1);
        assert!(account[0]["last_login_at"].is_string(), "{}", account[0]);
        assert!(account[0].get("password_hash").is_none());
        assert_eq!(rows("user_plants").len(), 1);
        let messages = rows("messages");
        assert_eq!(messages.len(), 452, "the chat's two and 450 more, over three pages");
        let ids: std::collections::BTreeSet<_> = messages.iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids.len(), 452, "no row twice");
        let sms = rows("sms_log");
        assert_eq!(sms.len(), 1);
        assert_eq!(sms[0]["body"], "Plant Texts code: ******");
        assert_eq!(rows("inbound_sms").len(), 1);
        assert_eq!(rows("phone_verifications").len(), 1);
        let audit = rows("admin_audit_log");
        assert!(!audit.is_empty() && audit.iter().all(|entry| entry["target"] == format!("user:{}", user.id)));
        assert_eq!(rows("gardens")[0]["id"], garden["id"]);
        assert_eq!(rows("plantings")[0]["id"], tomato["id"]);
        assert_eq!(rows("planting_events").len(), 1);
        assert_eq!(rows("compliance_audit")[0]["decision"], "blocked");
        assert!(!response.body.contains("NotYours") && !response.body.contains(&other.id));
    }

    async fn erasure_needs_the_password_then_removes_the_account_and_its_tokens(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let wrong = app
            .delete_json_as(&user.access_token, "/api/v2/me", &json!({"password": "not my password"}))
            .await;
        assert_eq!(wrong.status, 403);
        assert_eq!(wrong.json()["code"], "ERR_AUTH_004");

        let garden = app.post_json_as(&user.access_token, "/api/v2/gardens", &json!({"name": "Plot", "width": 2, "length": 2})).await.json();
        let tomato = app
            .post_json_as(&user.access_token, &format!("/api/v2/gardens/{}/plantings", garden["id"].as_str().unwrap()), &json!({"catalog_plant_id": app.catalog_id("Tomato").await, "x": 0, "y": 0}))
            .await
            .json();
        let watered = app.post_json_as(&user.access_token, &format!("/api/v2/plantings/{}/events", tomato["id"].as_str().unwrap()), &json!({"kind": "watered"})).await;
        assert_eq!(watered.status, 201);

        let erased = app
            .delete_json_as(&user.access_token, "/api/v2/me", &json!({"password": PASSWORD}))
            .await;
        assert_eq!(erased.status, 204, "{}", erased.body);
        let user_id: uuid::Uuid = user.id.parse().unwrap();
        for table in ["gardens", "plantings", "planting_events"] {
            let left = app.try_execute_sql(&format!("UPDATE {table} SET tenant_id = tenant_id WHERE user_id = ?"), vec![user_id.into()]).await;
            assert_eq!(left, Ok(0), "{table} keeps rows of the erased account");
        }
        assert_eq!(app.get_as(&user.access_token, "/api/v2/me").await.status, 401);
        let refresh = app.refresh(&user.refresh_token).await;
        assert_eq!(refresh.status, 401);
        assert_eq!(app.login("demo", "ada@example.com", PASSWORD).await.status, 401);
        // The email is free again.
        assert_eq!(app.register("demo", "ada@example.com", PASSWORD).await.status, 201);
    }
}

/// Writes `count` messages into the conversation with `plant_id`, fifty to a statement.
async fn insert_messages(app: &TestApp, tenant_id: &str, plant_id: &str, count: usize) {
    let tenant = uuid::Uuid::parse_str(tenant_id).unwrap();
    let plant = uuid::Uuid::parse_str(plant_id).unwrap();
    let mut left = count;
    while left > 0 {
        let batch = left.min(50);
        let rows = vec!["(?, ?, ?, 'inbound', 'web', ?, NULL, ?)"; batch].join(", ");
        let mut values: Vec<migration::sea_orm::Value> = Vec::new();
        for n in 0..batch {
            values.push(uuid::Uuid::now_v7().into());
            values.push(tenant.into());
            values.push(plant.into());
            values.push(format!("message {} {}", left - n, "x".repeat(1000)).into());
            values.push(chrono::Utc::now().into());
        }
        app.execute_sql(
            &format!("INSERT INTO messages (id, tenant_id, user_plant_id, direction, channel, body, source, created_at) VALUES {rows}"),
            values,
        )
        .await;
        left -= batch;
    }
}
