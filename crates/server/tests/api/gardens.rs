//! Gardens through the whole server on both databases: CRUD, grid bounds, plantings and their
//! status moves, events, the analysis of each rule, the layout, compliance enforcement switched
//! at runtime, the audit trail's immutability and who may read it, and isolation.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_KEY, Backend, PASSWORD, TestApp, TestResponse, TestUser, on_both_backends, spawn_app,
    spawn_app_on, spawn_app_with,
};

async fn create_garden(app: &TestApp, user: &TestUser, width: i64, length: i64) -> TestResponse {
    app.post_json_as(
        &user.access_token,
        "/api/v2/gardens",
        &json!({"name": "Back yard", "width": width, "length": length}),
    )
    .await
}

async fn garden(app: &TestApp, user: &TestUser, width: i64, length: i64) -> String {
    let created = create_garden(app, user, width, length).await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.json()["id"].as_str().unwrap().to_owned()
}

async fn plant(
    app: &TestApp,
    user: &TestUser,
    garden: &str,
    species: &str,
    x: i64,
    y: i64,
) -> TestResponse {
    let catalog_plant_id = app.catalog_id(species).await;
    app.post_json_as(
        &user.access_token,
        &format!("/api/v2/gardens/{garden}/plantings"),
        &json!({"catalog_plant_id": catalog_plant_id, "x": x, "y": y}),
    )
    .await
}

async fn planting(
    app: &TestApp,
    user: &TestUser,
    garden: &str,
    species: &str,
    x: i64,
    y: i64,
) -> String {
    let created = plant(app, user, garden, species, x, y).await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.json()["id"].as_str().unwrap().to_owned()
}

fn fields(response: &TestResponse) -> Vec<String> {
    response.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap().to_owned())
        .collect()
}

/// A tenant administrator of `tenant`, logged in again so that the token carries the role.
async fn tenant_admin(app: &TestApp, tenant: &str, email: &str) -> TestUser {
    let user = app.signed_up(tenant, email).await;
    let promoted = app
        .admin(
            Method::PATCH,
            Some(ADMIN_KEY),
            &format!("/api/v2/admin/users/{}", user.id),
            Some(&json!({"role": "admin"})),
        )
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    let login = app.login(tenant, email, PASSWORD).await.json();
    TestUser {
        access_token: login["access_token"].as_str().unwrap().to_owned(),
        ..user
    }
}

on_both_backends! {
    async fn a_garden_is_created_listed_read_resized_and_deleted_with_its_plantings(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "gardener@example.com").await;

        let created = create_garden(&app, &user, 4, 3).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let garden = created.json();
        let id = garden["id"].as_str().unwrap().to_owned();
        assert_eq!(created.header("location"), Some(format!("/api/v2/gardens/{id}").as_str()));
        assert_eq!(created.header("cache-control"), Some("no-store"));
        assert_eq!((garden["name"].clone(), garden["width"].clone(), garden["length"].clone()), (json!("Back yard"), json!(4), json!(3)));

        let listed = app.get_as(&user.access_token, "/api/v2/gardens").await.json();
        assert_eq!(listed["items"], json!([garden.clone()]));
        assert_eq!(app.get_as(&user.access_token, &format!("/api/v2/gardens/{id}")).await.json(), garden);

        let renamed = app.patch_json_as(&user.access_token, &format!("/api/v2/gardens/{id}"), &json!({"name": " Front ", "width": 2})).await;
        assert_eq!(renamed.status, 200, "{}", renamed.body);
        assert_eq!((renamed.json()["name"].clone(), renamed.json()["width"].clone(), renamed.json()["length"].clone()), (json!("Front"), json!(2), json!(3)));

        let tomato = planting(&app, &user, &id, "Tomato", 1, 1).await;
        let event = app.post_json_as(&user.access_token, &format!("/api/v2/plantings/{tomato}/events"), &json!({"kind": "watered"})).await;
        assert_eq!(event.status, 201, "{}", event.body);

        let deleted = app.delete_json_as(&user.access_token, &format!("/api/v2/gardens/{id}"), &json!({})).await;
        assert_eq!(deleted.status, 204, "{}", deleted.body);
        assert_eq!(app.get_as(&user.access_token, &format!("/api/v2/gardens/{id}")).await.status, 404);
        let gone = app.patch_json_as(&user.access_token, &format!("/api/v2/plantings/{tomato}"), &json!({"status": "active"})).await;
        assert_eq!(gone.status, 404);
        let uuid: uuid::Uuid = tomato.parse().unwrap();
        for table in ["plantings WHERE id = ?", "planting_events WHERE planting_id = ?"] {
            let removed = app.try_execute_sql(&format!("DELETE FROM {table}"), vec![uuid.into()]).await;
            assert_eq!(removed, Ok(0), "{table} still holds rows of the deleted garden");
        }
    }

    async fn grid_sides_of_1_and_200_are_accepted_and_0_and_201_are_refused(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "bounds@example.com").await;
        for side in [1, 200] {
            assert_eq!(create_garden(&app, &user, side, side).await.status, 201);
        }
        for side in [0, 201, -1] {
            let refused = create_garden(&app, &user, side, 5).await;
            assert_eq!(refused.status, 422, "{side}: {}", refused.body);
            assert_eq!(fields(&refused), ["width"]);
        }
        let missing = app.post_json_as(&user.access_token, "/api/v2/gardens", &json!({"name": ""})).await;
        assert_eq!(missing.status, 422);
        assert_eq!(fields(&missing), ["name", "width", "length"]);
        let id = garden(&app, &user, 3, 3).await;
        let shrink_to_zero = app.patch_json_as(&user.access_token, &format!("/api/v2/gardens/{id}"), &json!({"length": 0})).await;
        assert_eq!(shrink_to_zero.status, 422);
        assert_eq!(fields(&shrink_to_zero), ["length"]);
    }

    async fn plantings_must_lie_on_the_grid_and_move_only_along_their_life(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "life@example.com").await;
        let id = garden(&app, &user, 3, 2).await;
        for (x, y) in [(3, 0), (0, 2), (-1, 0)] {
            let refused = plant(&app, &user, &id, "Basil", x, y).await;
            assert_eq!(refused.status, 422, "({x}, {y}): {}", refused.body);
            assert_eq!(refused.json()["code"], "ERR_VALIDATION_001");
        }
        let basil_species = app.catalog_id("Basil").await;
        for (body, field) in [
            (json!({"catalog_plant_id": basil_species, "x": 0, "y": 0, "status": "harvested"}), "status"),
            (json!({"catalog_plant_id": basil_species, "x": 0, "y": 0, "planted_on": "-5000-01-01"}), "planted_on"),
        ] {
            let refused = app.post_json_as(&user.access_token, &format!("/api/v2/gardens/{id}/plantings"), &body).await;
            assert_eq!(refused.status, 422, "{body}: {}", refused.body);
            assert_eq!(fields(&refused), [field]);
        }
        let created = plant(&app, &user, &id, "Basil", 2, 1).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let basil = created.json();
        let basil_id = basil["id"].as_str().unwrap().to_owned();
        assert_eq!(created.header("location"), Some(format!("/api/v2/plantings/{basil_id}").as_str()));
        assert_eq!((basil["status"].clone(), basil["x"].clone(), basil["y"].clone()), (json!("planned"), json!(2), json!(1)));
        let tomato = planting(&app, &user, &id, "Tomato", 0, 0).await;

        let path = format!("/api/v2/plantings/{basil_id}");
        let skip = app.patch_json_as(&user.access_token, &path, &json!({"status": "harvested"})).await;
        assert_eq!(skip.status, 422);
        assert_eq!(skip.json()["code"], "ERR_PLANTING_001");
        for status in ["active", "harvested"] {
            let moved = app.patch_json_as(&user.access_token, &path, &json!({"status": status})).await;
            assert_eq!(moved.status, 200, "{}", moved.body);
            assert_eq!(moved.json()["status"], status);
        }
        let back = app.patch_json_as(&user.access_token, &path, &json!({"status": "active"})).await;
        assert_eq!(back.json()["code"], "ERR_PLANTING_001");
        let unknown = app.patch_json_as(&user.access_token, &path, &json!({"status": "growing"})).await;
        assert_eq!(fields(&unknown), ["status"]);
        let off_grid = app.patch_json_as(&user.access_token, &format!("/api/v2/plantings/{tomato}"), &json!({"x": 3, "y": 0})).await;
        assert_eq!(off_grid.status, 422);
        let half_a_cell = app.patch_json_as(&user.access_token, &format!("/api/v2/plantings/{tomato}"), &json!({"x": 1})).await;
        assert_eq!(fields(&half_a_cell), ["y"]);

        let list = |query: &'static str| {
            let app = &app;
            let id = id.clone();
            let token = user.access_token.clone();
            async move {
                let response = app.get_as(&token, &format!("/api/v2/gardens/{id}/plantings{query}")).await;
                assert_eq!(response.status, 200, "{}", response.body);
                response.json()["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
            }
        };
        assert_eq!(list("").await, [basil_id.clone(), tomato.clone()]);
        assert_eq!(list("?status=harvested").await, std::slice::from_ref(&basil_id));
        assert_eq!(list("?status=planned").await, std::slice::from_ref(&tomato));
        assert!(list("?status=active").await.is_empty());
        let paged = app.get_as(&user.access_token, &format!("/api/v2/gardens/{id}/plantings?limit=1")).await.json();
        assert_eq!(paged["items"].as_array().unwrap().len(), 1);
        assert!(paged["next_cursor"].is_string());
        let bad = app.get_as(&user.access_token, &format!("/api/v2/gardens/{id}/plantings?status=dead&limit=ten")).await;
        assert_eq!(bad.status, 422);
        assert_eq!(fields(&bad), ["status", "limit"]);

        let removed = app.delete_json_as(&user.access_token, &path, &json!({})).await;
        assert_eq!(removed.status, 204);
        assert_eq!(list("").await, [tomato]);
    }

    async fn events_are_recorded_now_or_when_told(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "events@example.com").await;
        let id = garden(&app, &user, 2, 2).await;
        let tomato = planting(&app, &user, &id, "Tomato", 0, 0).await;
        let path = format!("/api/v2/plantings/{tomato}/events");

        let now = app.post_json_as(&user.access_token, &path, &json!({"kind": "sown", "notes": "row one\nby the fence"})).await;
        assert_eq!(now.status, 201, "{}", now.body);
        let event = now.json();
        let event_id = event["id"].as_str().unwrap();
        assert_eq!(now.header("location"), Some(format!("/api/v2/plantings/{tomato}/events/{event_id}").as_str()));
        assert_eq!(event["occurred_at"], event["created_at"]);
        assert_eq!(event["notes"], "row one\nby the fence");

        let earlier = app.post_json_as(&user.access_token, &path, &json!({"kind": "pruned", "occurred_at": "2026-05-01T08:30:00Z"})).await;
        assert_eq!(earlier.status, 201, "{}", earlier.body);
        assert_eq!(earlier.json()["occurred_at"], "2026-05-01T08:30:00Z");

        let listed = app.get_as(&user.access_token, &path).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let kinds: Vec<Value> = listed.json()["items"].as_array().unwrap().iter().map(|e| e["kind"].clone()).collect();
        assert_eq!(kinds, [json!("sown"), json!("pruned")], "in recording order");
        let read = app.get_as(&user.access_token, &format!("/api/v2/plantings/{tomato}")).await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.json()["id"], tomato.as_str());

        let bad = app.post_json_as(&user.access_token, &path, &json!({"kind": "danced", "notes": "x".repeat(1001)})).await;
        assert_eq!(bad.status, 422);
        assert_eq!(fields(&bad), ["kind", "notes"]);
        let far = app.post_json_as(&user.access_token, &path, &json!({"kind": "note", "occurred_at": "3000-01-01T00:00:00Z"})).await;
        assert_eq!(fields(&far), ["occurred_at"]);
        let nowhere = app.post_json_as(&user.access_token, &format!("/api/v2/plantings/{}/events", uuid::Uuid::now_v7()), &json!({"kind": "note"})).await;
        assert_eq!(nowhere.status, 404);
    }

    async fn the_analysis_reports_each_rule_on_a_garden_built_to_trigger_it(backend: Backend) {
        // Kudzu is planted in log-only mode so that it stands in the garden.
        let app = spawn_app_with(backend, &[("FEATURE_COMPLIANCE_ENFORCEMENT_ENABLED", "false")]).await;
        let user = app.signed_up("demo", "rules@example.com").await;
        let id = garden(&app, &user, 6, 6).await;
        let tomato = planting(&app, &user, &id, "Tomato", 1, 1).await;
        let basil = planting(&app, &user, &id, "Basil", 2, 2).await;
        let fennel = planting(&app, &user, &id, "Fennel", 0, 1).await;
        let crowded = planting(&app, &user, &id, "Basil", 4, 4).await;
        let crowding = planting(&app, &user, &id, "Basil", 4, 4).await;
        let kudzu = planting(&app, &user, &id, "Kudzu", 5, 0).await;
        let far = planting(&app, &user, &id, "Fennel", 5, 5).await;
        let harvested = planting(&app, &user, &id, "Fennel", 2, 1).await;
        for status in ["active", "harvested"] {
            let moved = app.patch_json_as(&user.access_token, &format!("/api/v2/plantings/{harvested}"), &json!({"status": status})).await;
            assert_eq!(moved.status, 200, "{}", moved.body);
        }
        // Shrinking to 5 × 5 leaves the fennel at (5, 5) and the kudzu at (5, 0) outside.
        let shrunk = app.patch_json_as(&user.access_token, &format!("/api/v2/gardens/{id}"), &json!({"width": 5, "length": 5})).await;
        assert_eq!(shrunk.status, 200, "{}", shrunk.body);

        let analysis = app.get_as(&user.access_token, &format!("/api/v2/gardens/{id}/analysis")).await;
        assert_eq!(analysis.status, 200, "{}", analysis.body);
        let analysis = analysis.json();
        assert_eq!(analysis["note"], Value::Null);
        let mut found: Vec<(String, String, Vec<String>)> = analysis["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                assert!(!f["message"].as_str().unwrap().is_empty());
                let mut ids: Vec<String> = f["planting_ids"].as_array().unwrap().iter().map(|i| i.as_str().unwrap().to_owned()).collect();
                ids.sort();
                (f["rule"].as_str().unwrap().to_owned(), f["severity"].as_str().unwrap().to_owned(), ids)
            })
            .collect();
        found.sort();
        let pair = |a: &str, b: &str| { let mut ids = vec![a.to_owned(), b.to_owned()]; ids.sort(); ids };
        let mut expected = vec![
            ("antagonistic_neighbours".to_owned(), "warning".to_owned(), pair(&tomato, &fennel)),
            ("beneficial_neighbours".to_owned(), "info".to_owned(), pair(&tomato, &basil)),
            ("out_of_grid".to_owned(), "error".to_owned(), vec![far.clone()]),
            ("out_of_grid".to_owned(), "error".to_owned(), vec![kudzu.clone()]),
            ("restricted_crop".to_owned(), "error".to_owned(), vec![kudzu.clone()]),
            ("shared_cell".to_owned(), "error".to_owned(), pair(&crowded, &crowding)),
        ];
        expected.sort();
        assert_eq!(found, expected);

        let off = app.set_feature_flags(&json!({"rule_engine": false})).await;
        assert_eq!(off.status, 200, "{}", off.body);
        let quiet = app.get_as(&user.access_token, &format!("/api/v2/gardens/{id}/analysis")).await.json();
        assert_eq!(quiet["findings"], json!([]));
        assert!(quiet["note"].as_str().unwrap().contains("rule_engine"), "{quiet}");
    }

    async fn the_layout_is_rows_of_cells_holding_the_first_planting(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "layout@example.com").await;
        let id = garden(&app, &user, 3, 2).await;
        let first = planting(&app, &user, &id, "Tomato", 2, 1).await;
        planting(&app, &user, &id, "Basil", 2, 1).await;
        let removed = planting(&app, &user, &id, "Fennel", 0, 0).await;
        app.patch_json_as(&user.access_token, &format!("/api/v2/plantings/{removed}"), &json!({"status": "removed"})).await;
        let tomato_id = app.catalog_id("Tomato").await;

        let layout = app.get_as(&user.access_token, &format!("/api/v2/gardens/{id}/layout")).await;
        assert_eq!(layout.status, 200, "{}", layout.body);
        assert_eq!(layout.json(), json!({
            "width": 3,
            "length": 2,
            "rows": [
                [null, null, null],
                [null, null, {"planting_id": first, "catalog_plant_id": tomato_id, "common_name": "Tomato", "status": "planned"}],
            ],
        }));
    }

    async fn a_restricted_crop_is_refused_then_allowed_when_enforcement_is_switched_off_and_always_audited(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "kudzu@example.com").await;
        let id = garden(&app, &user, 3, 3).await;

        let refused = plant(&app, &user, &id, "Kudzu", 0, 0).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert_eq!(refused.json()["code"], "ERR_COMPLIANCE_001");
        let listed = app.get_as(&user.access_token, &format!("/api/v2/gardens/{id}/plantings")).await.json();
        assert_eq!(listed["items"], json!([]));

        let switched = app.set_feature_flags(&json!({"compliance_enforcement": false})).await;
        assert_eq!(switched.status, 200, "{}", switched.body);
        assert_eq!(switched.json(), json!({"rule_engine": true, "compliance_enforcement": false, "ai_chat": true, "sms_reminders": true}));
        let allowed = plant(&app, &user, &id, "Kudzu", 1, 1).await;
        assert_eq!(allowed.status, 201, "{}", allowed.body);
        let kudzu = allowed.json()["id"].as_str().unwrap().to_owned();

        let audit = app.admin(Method::GET, Some(ADMIN_KEY), "/api/v2/admin/compliance-audit", None).await;
        assert_eq!(audit.status, 200, "{}", audit.body);
        let entries = audit.json()["items"].as_array().unwrap().clone();
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0]["decision"].clone(), entries[0]["planting_id"].clone()), (json!("allowed"), json!(kudzu)));
        assert_eq!((entries[1]["decision"].clone(), entries[1]["planting_id"].clone()), (json!("blocked"), Value::Null));
        assert_eq!(entries[1]["user_id"], user.id.as_str());
        let user_id: uuid::Uuid = user.id.parse().unwrap();
        assert_eq!(
            app.try_execute_sql("UPDATE users SET full_name = full_name WHERE id = ? AND flagged = true", vec![user_id.into()]).await,
            Ok(1),
            "the user is flagged"
        );

        let changes = app.admin(Method::GET, Some(ADMIN_KEY), "/api/v2/admin/audit-log?limit=100", None).await.json();
        let change = changes["items"].as_array().unwrap().iter().find(|e| e["action"] == "feature_flags.update").cloned().unwrap();
        assert_eq!((change["old"].clone(), change["new"].clone()), (json!({"compliance_enforcement": true}), json!({"compliance_enforcement": false})));
        assert_eq!(change["outcome"], "success");
    }

    async fn compliance_audit_entries_can_be_neither_changed_nor_deleted(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "immutable@example.com").await;
        let id = garden(&app, &user, 2, 2).await;
        assert_eq!(plant(&app, &user, &id, "Kudzu", 0, 0).await.status, 422);
        let update = app.try_execute_sql("UPDATE compliance_audit SET decision = 'allowed'", vec![]).await;
        assert!(update.is_err(), "UPDATE went through: {update:?}");
        let delete = app.try_execute_sql("DELETE FROM compliance_audit", vec![]).await;
        assert!(delete.is_err(), "DELETE went through: {delete:?}");
        if backend == Backend::Postgres {
            let truncate = app.try_execute_sql("TRUNCATE compliance_audit", vec![]).await;
            assert!(truncate.is_err(), "TRUNCATE went through: {truncate:?}");
        }
        let db = crate::helpers::connect(&app.database.url).await;
        // Roll back down to and including the migration that created the audit.
        let migrations = <migration::Migrator as migration::MigratorTrait>::migrations();
        let gardens = migrations
            .iter()
            .position(|m| m.name() == "m20261201_000011_gardens")
            .expect("the gardens migration is listed");
        let steps = u32::try_from(migrations.len() - gardens).unwrap();
        let rollback = <migration::Migrator as migration::MigratorTrait>::down(&db, Some(steps)).await;
        assert!(rollback.is_err(), "rolling back dropped the audit trail");
        let audit = app.admin(Method::GET, Some(ADMIN_KEY), "/api/v2/admin/compliance-audit", None).await.json();
        assert_eq!(audit["items"][0]["decision"], "blocked");
    }

    async fn a_change_writes_only_the_fields_it_names(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "partial@example.com").await;
        let id = garden(&app, &user, 4, 4).await;
        let tomato = planting(&app, &user, &id, "Tomato", 1, 1).await;
        // Another writer changes what this change does not name, between its read and write.
        let garden_id: uuid::Uuid = id.parse().unwrap();
        let planting_id: uuid::Uuid = tomato.parse().unwrap();
        app.execute_sql("UPDATE gardens SET width = 7 WHERE id = ?", vec![garden_id.into()]).await;
        app.execute_sql("UPDATE plantings SET x = 3 WHERE id = ?", vec![planting_id.into()]).await;

        let renamed = app.patch_json_as(&user.access_token, &format!("/api/v2/gardens/{id}"), &json!({"name": "Renamed"})).await;
        assert_eq!(renamed.status, 200);
        let dated = app.patch_json_as(&user.access_token, &format!("/api/v2/plantings/{tomato}"), &json!({"planted_on": "2026-04-01"})).await;
        assert_eq!(dated.status, 200, "{}", dated.body);

        let garden = app.get_as(&user.access_token, &format!("/api/v2/gardens/{id}")).await.json();
        assert_eq!((garden["name"].clone(), garden["width"].clone()), (json!("Renamed"), json!(7)));
        let planting = app.get_as(&user.access_token, &format!("/api/v2/plantings/{tomato}")).await.json();
        assert_eq!((planting["planted_on"].clone(), planting["x"].clone()), (json!("2026-04-01"), json!(3)));
    }

    async fn tenant_admins_read_their_tenants_audit_and_the_platform_admin_reads_all(backend: Backend) {
        let app = spawn_app(backend).await;
        app.create_tenant("orchard", true).await;
        let demo_user = app.signed_up("demo", "planter@example.com").await;
        let orchard_user = app.signed_up("orchard", "planter@example.com").await;
        for user in [&demo_user, &orchard_user] {
            let id = garden(&app, user, 2, 2).await;
            assert_eq!(plant(&app, user, &id, "Kudzu", 0, 0).await.status, 422);
        }
        let demo_admin = tenant_admin(&app, "demo", "boss@example.com").await;

        let member = app.get_as(&demo_user.access_token, "/api/v2/compliance/audit").await;
        assert_eq!(member.status, 403, "{}", member.body);
        let own = app.get_as(&demo_admin.access_token, "/api/v2/compliance/audit").await;
        assert_eq!(own.status, 200, "{}", own.body);
        let own = own.json()["items"].as_array().unwrap().clone();
        assert_eq!(own.len(), 1);
        assert_eq!(own[0]["user_id"], demo_user.id.as_str());

        let all = app.admin(Method::GET, Some(ADMIN_KEY), "/api/v2/admin/compliance-audit?limit=1", None).await.json();
        assert_eq!(all["items"][0]["user_id"], orchard_user.id.as_str(), "newest first");
        let cursor = all["next_cursor"].as_str().unwrap();
        let rest = app.admin(Method::GET, Some(ADMIN_KEY), &format!("/api/v2/admin/compliance-audit?limit=1&cursor={cursor}"), None).await.json();
        assert_eq!(rest["items"][0]["user_id"], demo_user.id.as_str());
        let no_key = app.admin(Method::GET, None, "/api/v2/admin/compliance-audit", None).await;
        assert_eq!(no_key.status, 403);
    }

    async fn another_users_or_tenants_gardens_plantings_and_events_are_not_found(backend: Backend) {
        let app = spawn_app(backend).await;
        app.create_tenant("orchard", true).await;
        let owner = app.signed_up("demo", "owner@example.com").await;
        let neighbour = app.signed_up("demo", "neighbour@example.com").await;
        let stranger = app.signed_up("orchard", "owner@example.com").await;
        let id = garden(&app, &owner, 3, 3).await;
        let tomato = planting(&app, &owner, &id, "Tomato", 0, 0).await;
        let basil_id = app.catalog_id("Basil").await;

        for intruder in [&neighbour, &stranger] {
            let token = &intruder.access_token;
            for path in [format!("/api/v2/gardens/{id}"), format!("/api/v2/gardens/{id}/plantings"), format!("/api/v2/gardens/{id}/analysis"), format!("/api/v2/gardens/{id}/layout")] {
                assert_eq!(app.get_as(token, &path).await.status, 404, "{path}");
            }
            assert_eq!(app.patch_json_as(token, &format!("/api/v2/gardens/{id}"), &json!({"name": "Mine"})).await.status, 404);
            assert_eq!(app.delete_json_as(token, &format!("/api/v2/gardens/{id}"), &json!({})).await.status, 404);
            assert_eq!(app.post_json_as(token, &format!("/api/v2/gardens/{id}/plantings"), &json!({"catalog_plant_id": basil_id, "x": 1, "y": 1})).await.status, 404);
            assert_eq!(app.patch_json_as(token, &format!("/api/v2/plantings/{tomato}"), &json!({"status": "active"})).await.status, 404);
            assert_eq!(app.delete_json_as(token, &format!("/api/v2/plantings/{tomato}"), &json!({})).await.status, 404);
            assert_eq!(app.post_json_as(token, &format!("/api/v2/plantings/{tomato}/events"), &json!({"kind": "note"})).await.status, 404);
            assert_eq!(app.get_as(token, &format!("/api/v2/plantings/{tomato}")).await.status, 404);
            assert_eq!(app.get_as(token, &format!("/api/v2/plantings/{tomato}/events")).await.status, 404);
            assert_eq!(app.get_as(token, "/api/v2/gardens").await.json()["items"], json!([]));
        }
        let mine = app.get_as(&owner.access_token, &format!("/api/v2/gardens/{id}/plantings")).await.json();
        assert_eq!(mine["items"][0]["status"], "planned", "nothing changed");
        assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    }

    async fn a_garden_create_replays_under_its_idempotency_key(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "retry@example.com").await;
        let send = || {
            app.client
                .post(format!("{}/api/v2/gardens", app.address))
                .bearer_auth(&user.access_token)
                .header("Idempotency-Key", "garden-1")
                .json(&json!({"name": "Once", "width": 2, "length": 2}))
                .send()
        };
        let first = send().await.unwrap();
        assert_eq!(first.status(), 201);
        let first: Value = first.json().await.unwrap();
        let again = send().await.unwrap();
        assert_eq!(again.status(), 201);
        assert_eq!(again.json::<Value>().await.unwrap(), first);
        let listed = app.get_as(&user.access_token, "/api/v2/gardens").await.json();
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    }

    async fn flags_are_read_changed_and_reloaded_through_the_admin_api(backend: Backend) {
        let app = spawn_app_with(backend, &[("FEATURE_AI_CHAT_ENABLED", "false")]).await;
        let read = app.admin(Method::GET, Some(ADMIN_KEY), "/api/v2/admin/feature-flags", None).await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.json(), json!({"rule_engine": true, "compliance_enforcement": true, "ai_chat": false, "sms_reminders": true}));
        let unchanged = app.set_feature_flags(&json!({})).await;
        assert_eq!(unchanged.json(), read.json());
        for bad in [json!({"warp_drive": true}), json!({"ai_chat": null}), json!({"ai_chat": "yes"})] {
            let refused = app.set_feature_flags(&bad).await;
            assert_eq!(refused.status, 422, "{bad}: {}", refused.body);
        }
        let not_a_map = app.set_feature_flags(&json!([true])).await;
        assert_eq!(not_a_map.status, 422);

        // The audit's `old` is the stored value the change replaced, even when this instance had
        // not seen it yet.
        app.execute_sql("UPDATE feature_flags SET enabled = true WHERE name = 'ai_chat'", vec![]).await;
        assert_eq!(app.set_feature_flags(&json!({"ai_chat": false})).await.status, 200);
        let log = app.admin(Method::GET, Some(ADMIN_KEY), "/api/v2/admin/audit-log?limit=100", None).await.json();
        let change = log["items"].as_array().unwrap().iter().find(|e| e["action"] == "feature_flags.update").cloned().unwrap();
        assert_eq!((change["old"].clone(), change["new"].clone()), (json!({"ai_chat": true}), json!({"ai_chat": false})));

        // A change written straight to the store is picked up by a reload.
        app.execute_sql("UPDATE feature_flags SET enabled = false WHERE name = 'sms_reminders'", vec![]).await;
        let reloaded = app.admin(Method::POST, Some(ADMIN_KEY), "/api/v2/admin/feature-flags/reload", None).await;
        assert_eq!(reloaded.status, 200, "{}", reloaded.body);
        assert_eq!(reloaded.json()["sms_reminders"], false);
        let wrong_key = app.admin(Method::PATCH, Some("not-the-key-0123456789abcdef0123456789"), "/api/v2/admin/feature-flags", Some(&json!({"ai_chat": true}))).await;
        assert_eq!(wrong_key.status, 403);
        assert_eq!(app.admin(Method::GET, Some(ADMIN_KEY), "/api/v2/admin/feature-flags", None).await.json()["ai_chat"], false);
    }
}

/// The flags of one instance follow a change made through another within 5 seconds.
#[tokio::test]
async fn a_flag_changed_on_one_instance_is_applied_by_another_within_five_seconds() {
    let first = spawn_app(Backend::Postgres).await;
    let second = spawn_app_on(first.database.shared(), &[]).await;
    let user = first.signed_up("demo", "two@example.com").await;
    let id = garden(&first, &user, 2, 2).await;
    assert_eq!(plant(&second, &user, &id, "Kudzu", 0, 0).await.status, 422);

    let changed_at = Instant::now();
    assert_eq!(
        first
            .set_feature_flags(&json!({"compliance_enforcement": false}))
            .await
            .status,
        200
    );
    loop {
        let flags = second
            .admin(
                Method::GET,
                Some(ADMIN_KEY),
                "/api/v2/admin/feature-flags",
                None,
            )
            .await
            .json();
        if flags["compliance_enforcement"] == false {
            break;
        }
        assert!(
            changed_at.elapsed() < Duration::from_secs(5),
            "the second instance still has {flags}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(plant(&second, &user, &id, "Kudzu", 1, 1).await.status, 201);
}

/// "The active plantings of a garden" reads one range of `ix_plantings_garden_status_id` on
/// PostgreSQL over the synthetic data set (the plan is recorded in docs/capacity-planning.md).
#[tokio::test]
async fn the_active_plantings_of_a_garden_are_read_from_their_index_on_postgres() {
    use migration::{
        ConnectionTrait as _,
        sea_orm::Statement,
        seed::synthetic::{self, SyntheticSize},
    };

    let app = spawn_app(Backend::Postgres).await;
    let db = crate::helpers::connect(&app.database.url).await;
    let size = SyntheticSize {
        users: 20,
        gardens: 200,
        plantings: 10_000,
        events: 0,
        seed: 7,
    };
    synthetic::run(&db, size, |_, _, _| {}).await.unwrap();
    db.execute_unprepared("ANALYZE").await.unwrap();
    let garden = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id::text AS id, tenant_id::text AS tenant_id, user_id::text AS user_id FROM gardens LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap();
    let column = |name: &str| garden.try_get::<String>("", name).unwrap();
    let explain = format!(
        "EXPLAIN SELECT * FROM plantings WHERE tenant_id = '{}' AND user_id = '{}' \
         AND garden_id = '{}' AND status = 'active' ORDER BY id LIMIT 21",
        column("tenant_id"),
        column("user_id"),
        column("id"),
    );
    let plan: Vec<String> = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), explain))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains("ix_plantings_garden_status_id"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}

/// A garden holds at most 10,000 planned and active plantings: the analysis budget.
#[tokio::test]
async fn a_full_garden_refuses_another_planting() {
    let app = spawn_app(Backend::Postgres).await;
    let user = app.signed_up("demo", "crowded@example.com").await;
    let id = garden(&app, &user, 2, 2).await;
    let tomato = planting(&app, &user, &id, "Tomato", 0, 0).await;
    let tomato: uuid::Uuid = tomato.parse().unwrap();
    app.execute_sql(
        "INSERT INTO plantings (id, tenant_id, user_id, garden_id, catalog_plant_id, x, y, status, created_at, updated_at) \
         SELECT gen_random_uuid(), tenant_id, user_id, garden_id, catalog_plant_id, x, y, status, created_at, updated_at \
         FROM plantings, generate_series(1, 9999) WHERE id = ?",
        vec![tomato.into()],
    )
    .await;
    let refused = plant(&app, &user, &id, "Basil", 1, 1).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(fields(&refused), ["garden"]);
    let harvested = app
        .patch_json_as(
            &user.access_token,
            &format!("/api/v2/plantings/{tomato}"),
            &json!({"status": "removed"}),
        )
        .await;
    assert_eq!(harvested.status, 200);
    assert_eq!(
        plant(&app, &user, &id, "Basil", 1, 1).await.status,
        201,
        "room again"
    );
}
