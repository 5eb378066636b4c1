//! The caller's plants: create, list, read, update, water, delete, nickname rules, isolation,
//! and the one-statement listing.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use application::{
    paging::PageRequest,
    plants::{Owner, ports::UserPlantRepository},
};
use chrono::{DateTime, TimeDelta, Utc};
use domain::identity::{TenantId, UserId};
use infrastructure::persistence::plants::SeaOrmUserPlantRepository;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, TestDatabase, counted_database, on_both_backends, spawn_app, spawn_app_on,
};

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .to_utc()
}

async fn create(app: &TestApp, token: &str, body: &Value) -> crate::helpers::TestResponse {
    app.post_json_as(token, "/api/v2/plants", body).await
}

on_both_backends! {
    async fn a_plant_is_added_listed_read_changed_and_removed(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "grower@example.com").await;
        let basil_id = app.catalog_id("Basil").await;
        let basil = app.get(&format!("/api/v2/catalog/{basil_id}")).await.json();

        let created = create(&app, &user.access_token, &json!({"catalog_plant_id": basil_id, "nickname": "Basilio"})).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let plant = created.json();
        let id = plant["id"].as_str().unwrap().to_owned();
        assert_eq!(created.header("location"), Some(format!("/api/v2/plants/{id}").as_str()));
        assert_eq!(created.header("cache-control"), Some("no-store"));
        assert_eq!(plant["nickname"], "Basilio");
        assert_eq!(plant["personality"], basil["default_personality"]);
        assert_eq!(plant["catalog"]["id"], basil_id.as_str());
        assert_eq!(plant["catalog"]["common_name"], "Basil");
        assert_eq!(plant["catalog"]["watering_interval_days"], basil["watering_interval_days"]);
        assert_eq!(plant["last_watered_at"], Value::Null);
        let interval = basil["watering_interval_days"].as_i64().unwrap();
        assert_eq!(time(&plant["next_reminder_at"]), time(&plant["created_at"]) + TimeDelta::days(interval));

        let listed = app.get_as(&user.access_token, "/api/v2/plants").await.json();
        assert_eq!(listed["items"], json!([plant.clone()]));
        let read = app.get_as(&user.access_token, &format!("/api/v2/plants/{id}")).await;
        assert_eq!(read.json(), plant);

        let reminder = "2030-01-02T03:04:05Z";
        let changed = app
            .patch_json_as(&user.access_token, &format!("/api/v2/plants/{id}"), &json!({"nickname": "Basil Fawlty", "personality": "wise_elder", "next_reminder_at": reminder}))
            .await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        let changed = changed.json();
        assert_eq!(changed["nickname"], "Basil Fawlty");
        assert_eq!(changed["personality"], "wise_elder");
        assert_eq!(time(&changed["next_reminder_at"]), time(&json!(reminder)));
        assert_eq!(app.get_as(&user.access_token, &format!("/api/v2/plants/{id}")).await.json(), changed);

        let deleted = app.send(|c, url| c.delete(url).bearer_auth(&user.access_token), &format!("/api/v2/plants/{id}")).await;
        assert_eq!(deleted.status, 204);
        assert_eq!(app.get_as(&user.access_token, &format!("/api/v2/plants/{id}")).await.status, 404);
        let again = app.send(|c, url| c.delete(url).bearer_auth(&user.access_token), &format!("/api/v2/plants/{id}")).await;
        assert_eq!(again.status, 404);
    }

    async fn nicknames_are_stored_trimmed_and_verbatim_at_one_and_fifty_characters(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "names@example.com").await;
        let fifty = "🌿".repeat(50);
        for (given, stored) in [
            ("F", "F"),
            (fifty.as_str(), fifty.as_str()),
            ("Robert'); DROP TABLE plants;--", "Robert'); DROP TABLE plants;--"),
            ("<script>alert('x')</script>", "<script>alert('x')</script>"),
            ("  Spacey  ", "Spacey"),
        ] {
            let plant = app.add_plant(&user, "Tomato", given).await;
            assert_eq!(plant["nickname"], stored);
            let read = app.get_as(&user.access_token, &format!("/api/v2/plants/{}", plant["id"].as_str().unwrap())).await;
            assert_eq!(read.json()["nickname"], stored);
        }
        let listed = app.get_as(&user.access_token, "/api/v2/plants?limit=100").await.json();
        assert_eq!(listed["items"].as_array().unwrap().len(), 5);
    }

    async fn blank_long_and_control_character_nicknames_are_refused(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "bad-names@example.com").await;
        let tomato = app.catalog_id("Tomato").await;
        let fifty_one = "a".repeat(51);
        for nickname in ["", "   ", fifty_one.as_str(), "bell\u{7}", "line\nbreak", "tab\there", "nul\u{0}"] {
            let response = create(&app, &user.access_token, &json!({"catalog_plant_id": tomato, "nickname": nickname})).await;
            assert_eq!(response.status, 422, "{nickname:?}: {}", response.body);
            let body = response.json();
            assert_eq!(body["code"], "ERR_VALIDATION_001");
            assert_eq!(body["errors"], json!([{"field": "nickname", "message": "must be 1 to 50 characters without control characters"}]));
        }
        // Renaming follows the same rule.
        let plant = app.add_plant(&user, "Tomato", "Tom").await;
        let response = app.patch_json_as(&user.access_token, &format!("/api/v2/plants/{}", plant["id"].as_str().unwrap()), &json!({"nickname": fifty_one})).await;
        assert_eq!(response.status, 422);
    }

    async fn missing_fields_unknown_species_and_unknown_personalities_are_named(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "fields@example.com").await;
        let empty = create(&app, &user.access_token, &json!({})).await;
        assert_eq!(empty.status, 422);
        let fields: Vec<Value> = empty.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
        assert_eq!(fields, [json!("catalog_plant_id"), json!("nickname")]);

        let unknown_species = create(&app, &user.access_token, &json!({"catalog_plant_id": uuid::Uuid::now_v7(), "nickname": "Ghost"})).await;
        assert_eq!(unknown_species.status, 422);
        assert_eq!(unknown_species.json()["errors"][0]["field"], "catalog_plant_id");

        let tomato = app.catalog_id("Tomato").await;
        for personality in ["no_such_one", "Not A Key"] {
            let response = create(&app, &user.access_token, &json!({"catalog_plant_id": tomato, "nickname": "Tom", "personality": personality})).await;
            assert_eq!(response.status, 422, "{personality}");
            assert_eq!(response.json()["errors"][0]["field"], "personality");
        }
        let chosen = create(&app, &user.access_token, &json!({"catalog_plant_id": tomato, "nickname": "Tom", "personality": "drama_queen"})).await;
        assert_eq!(chosen.status, 201);
        assert_eq!(chosen.json()["personality"], "drama_queen");
    }

    async fn watering_reschedules_the_reminder_by_the_species_interval(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "waterer@example.com").await;
        let plant = app.add_plant(&user, "Tomato", "Tommy").await;
        let interval = plant["catalog"]["watering_interval_days"].as_i64().unwrap();
        let id = plant["id"].as_str().unwrap();

        let watered = app.post_json_as(&user.access_token, &format!("/api/v2/plants/{id}/water"), &json!({})).await;
        assert_eq!(watered.status, 200, "{}", watered.body);
        let watered = watered.json();
        let at = time(&watered["last_watered_at"]);
        assert!(at >= time(&plant["created_at"]));
        assert_eq!(time(&watered["next_reminder_at"]), at + TimeDelta::days(interval));
        assert_eq!(app.get_as(&user.access_token, &format!("/api/v2/plants/{id}")).await.json(), watered);
    }

    async fn plants_page_oldest_first(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "pager@example.com").await;
        let mut ids = Vec::new();
        for nickname in ["One", "Two", "Three"] {
            ids.push(app.add_plant(&user, "Basil", nickname).await["id"].clone());
        }
        let first = app.get_as(&user.access_token, "/api/v2/plants?limit=2").await.json();
        let first_ids: Vec<Value> = first["items"].as_array().unwrap().iter().map(|p| p["id"].clone()).collect();
        assert_eq!(first_ids, ids[..2]);
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = app.get_as(&user.access_token, &format!("/api/v2/plants?limit=2&cursor={cursor}")).await.json();
        assert_eq!(second["items"][0]["id"], ids[2]);
        assert_eq!(second["next_cursor"], Value::Null);
        assert_eq!(app.get_as(&user.access_token, "/api/v2/plants?limit=101").await.status, 422);
    }

    async fn another_users_plant_is_not_found_whatever_the_operation(backend: Backend) {
        let app = spawn_app(backend).await;
        app.create_tenant("other-garden", true).await;
        let owner = app.signed_up("demo", "owner@example.com").await;
        let neighbour = app.signed_up("demo", "neighbour@example.com").await;
        let stranger = app.signed_up("other-garden", "stranger@example.com").await;
        let plant = app.add_plant(&owner, "Basil", "Mine").await;
        let id = plant["id"].as_str().unwrap();
        let path = format!("/api/v2/plants/{id}");

        for intruder in [&neighbour, &stranger] {
            let token = &intruder.access_token;
            let answers = [
                app.get_as(token, &path).await,
                app.patch_json_as(token, &path, &json!({"nickname": "Yours"})).await,
                app.post_json_as(token, &format!("{path}/water"), &json!({})).await,
                app.chat(intruder, id, "hello").await,
                app.get_as(token, &format!("{path}/messages")).await,
                app.send(|c, url| c.delete(url).bearer_auth(token), &path).await,
            ];
            for answer in answers {
                assert_eq!(answer.status, 404, "{}", answer.body);
                assert_eq!(answer.json()["code"], "ERR_RESOURCE_001");
            }
            let theirs = app.get_as(token, "/api/v2/plants").await.json();
            assert_eq!(theirs["items"], json!([]));
        }
        assert_eq!(app.get_as(&owner.access_token, &path).await.json(), plant);
    }

    async fn plants_need_a_token(backend: Backend) {
        let app = spawn_app(backend).await;
        let plant_path = format!("/api/v2/plants/{}", uuid::Uuid::now_v7());
        for response in [
            app.get("/api/v2/plants").await,
            app.post_json("/api/v2/plants", &json!({})).await,
            app.get(&plant_path).await,
            app.post_json(&format!("{plant_path}/chat"), &json!({"message": "hi"})).await,
        ] {
            assert_eq!(response.status, 401);
            assert!(response.header("www-authenticate").is_some());
        }
    }

    async fn listing_plants_takes_one_statement_whatever_their_number(backend: Backend) {
        let database = TestDatabase::migrated(backend).await;
        let url = database.url.clone();
        let app = spawn_app_on(database, &[]).await;
        let user = app.signed_up("demo", "counter@example.com").await;
        let owner = owner_of(&app, &user).await;
        let (repository, statements) = counted_plant_repository(url).await;
        let page = PageRequest { limit: 100, after: None };

        let mut counts = Vec::new();
        for plants in [1, 12] {
            let listed = app.get_as(&user.access_token, "/api/v2/plants?limit=100").await.json();
            for n in listed["items"].as_array().unwrap().len()..plants {
                app.add_plant(&user, if n % 2 == 0 { "Basil" } else { "Tomato" }, &format!("Plant {n}")).await;
            }
            statements.store(0, Ordering::SeqCst);
            let listed = repository.list(owner, page).await.unwrap();
            assert_eq!(listed.items.len(), plants);
            assert!(listed.items.iter().all(|owned| !owned.catalog.common_name.is_empty()));
            counts.push(statements.load(Ordering::SeqCst));
        }
        assert_eq!(counts, [1, 1], "one statement for 1 plant and for 12");
    }

    async fn a_chat_reads_the_plant_and_its_last_ten_messages_in_one_statement(backend: Backend) {
        let database = TestDatabase::migrated(backend).await;
        let url = database.url.clone();
        let app = spawn_app_on(database, &[]).await;
        let user = app.signed_up("demo", "context@example.com").await;
        let neighbour = app.signed_up("demo", "neighbour@example.com").await;
        let owner = owner_of(&app, &user).await;
        let chatty = app.add_plant(&user, "Basil", "Chatty").await["id"].as_str().unwrap().to_owned();
        let quiet = app.add_plant(&user, "Tomato", "Quiet").await["id"].as_str().unwrap().to_owned();
        for n in 1..=7 {
            assert_eq!(app.chat(&user, &chatty, &format!("message {n}")).await.status, 200);
        }
        let (repository, statements) = counted_plant_repository(url).await;

        statements.store(0, Ordering::SeqCst);
        let (owned, recent) = repository
            .find_with_recent_messages(owner, plant_id(&chatty), 10)
            .await
            .unwrap()
            .expect("the owner's plant");
        assert_eq!(statements.load(Ordering::SeqCst), 1);
        assert_eq!(owned.plant.nickname.as_str(), "Chatty");
        assert_eq!(owned.catalog.common_name, "Basil");
        assert_eq!(recent.len(), 10, "the last ten of fourteen");
        assert!(recent.windows(2).all(|pair| pair[0].id > pair[1].id), "newest first");
        assert!(recent.iter().all(|message| message.plant_id == owned.plant.id));
        assert_eq!(recent[9].body, "message 3", "the oldest kept is the third question");

        let (owned, recent) = repository
            .find_with_recent_messages(owner, plant_id(&quiet), 10)
            .await
            .unwrap()
            .expect("a plant without messages is still found");
        assert_eq!(owned.plant.nickname.as_str(), "Quiet");
        assert!(recent.is_empty(), "no other plant's messages: {recent:?}");

        let not_theirs = owner_of(&app, &neighbour).await;
        assert!(
            repository
                .find_with_recent_messages(not_theirs, plant_id(&chatty), 10)
                .await
                .unwrap()
                .is_none()
        );
    }
}

fn plant_id(id: &str) -> domain::plants::UserPlantId {
    domain::plants::UserPlantId::from_uuid(id.parse().unwrap())
}

async fn owner_of(app: &TestApp, user: &crate::helpers::TestUser) -> Owner {
    let me = app.get_as(&user.access_token, "/api/v2/me").await.json();
    Owner {
        tenant_id: TenantId::from_uuid(me["tenant_id"].as_str().unwrap().parse().unwrap()),
        user_id: UserId::from_uuid(user.id.parse().unwrap()),
    }
}

/// The plants repository over its own one-connection pool that counts the statements it sends.
async fn counted_plant_repository(url: String) -> (SeaOrmUserPlantRepository, Arc<AtomicUsize>) {
    let (observed, statements) = counted_database(&url, 1, Duration::ZERO).await;
    (SeaOrmUserPlantRepository::new(observed), statements)
}
