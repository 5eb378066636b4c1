//! Conversations: template replies, the chat model through a local mock of the OpenAI API, the
//! fallback when it fails, and the history.

use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

use crate::helpers::{Backend, TestApp, TestUser, on_both_backends, spawn_app, spawn_app_with};

/// The fallback replies of `personality` for `intent`, with the nickname filled in.
fn templates(personality: &str, intent: &str, nickname: &str) -> Vec<String> {
    let seed = migration::seed::PERSONALITIES
        .iter()
        .find(|p| p.key == personality)
        .unwrap();
    seed.templates_json()[intent]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().replace("{nickname}", nickname))
        .collect()
}

async fn openai_mock() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"message": {"role": "assistant", "content": "Fresh from the model!"}}]
        })))
        .mount(&server)
        .await;
    server
}

async fn app_with_model(backend: Backend, server: &MockServer, extra: &[(&str, &str)]) -> TestApp {
    let base_url = format!("{}/v1", server.uri());
    let mut overrides = vec![
        ("OPENAI_API_KEY", "sk-test-key"),
        ("OPENAI_BASE_URL", base_url.as_str()),
    ];
    overrides.extend_from_slice(extra);
    spawn_app_with(backend, &overrides).await
}

async fn plant(app: &TestApp, user: &TestUser) -> String {
    let plant = app.add_plant(user, "Tomato", "Fern").await;
    let id = plant["id"].as_str().unwrap().to_owned();
    let changed = app
        .patch_json_as(
            &user.access_token,
            &format!("/api/v2/plants/{id}"),
            &json!({"personality": "drama_queen"}),
        )
        .await;
    assert_eq!(changed.status, 200);
    id
}

async fn sent_bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| serde_json::from_slice(&request.body).unwrap())
        .collect()
}

on_both_backends! {
    async fn without_a_key_the_personality_answers_from_its_template_for_the_intent(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "talker@example.com").await;
        let id = plant(&app, &user).await;

        let response = app.chat(&user, &id, "Do you need water?").await;

        assert_eq!(response.status, 200, "{}", response.body);
        assert_eq!(response.header("cache-control"), Some("no-store"));
        let reply = response.json();
        assert_eq!(reply["source"], "fallback");
        assert!(uuid::Uuid::parse_str(reply["message_id"].as_str().unwrap()).is_ok());
        let water = templates("drama_queen", "water", "Fern");
        assert!(water.contains(&reply["reply"].as_str().unwrap().to_owned()), "{reply}");
    }

    async fn with_a_key_the_chat_model_answers(backend: Backend) {
        let server = openai_mock().await;
        let app = app_with_model(backend, &server, &[]).await;
        let user = app.signed_up("demo", "ai@example.com").await;
        let id = plant(&app, &user).await;

        let reply = app.chat(&user, &id, "Hello!").await.json();

        assert_eq!(reply, json!({"reply": "Fresh from the model!", "source": "ai", "message_id": reply["message_id"]}));
        let sent = sent_bodies(&server).await;
        let drama = migration::seed::PERSONALITIES.iter().find(|p| p.key == "drama_queen").unwrap();
        assert_eq!(sent[0]["messages"], json!([
            {"role": "system", "content": drama.system_prompt},
            {"role": "user", "content": "Hello!"},
        ]));
        assert_eq!(sent[0]["model"], "gpt-4o-mini");
        assert_eq!(sent[0]["max_tokens"], 200);
    }

    async fn the_model_sees_the_ten_messages_before_the_new_one(backend: Backend) {
        let server = openai_mock().await;
        let app = app_with_model(backend, &server, &[]).await;
        let user = app.signed_up("demo", "context@example.com").await;
        let id = plant(&app, &user).await;
        for n in 1..=7 {
            assert_eq!(app.chat(&user, &id, &format!("message {n}")).await.status, 200);
        }

        let sent = sent_bodies(&server).await;
        let last = sent.last().unwrap()["messages"].as_array().unwrap().clone();
        assert_eq!(last.len(), 1 + 10 + 1, "system, ten earlier messages, the new one");
        assert_eq!(last[1], json!({"role": "user", "content": "message 2"}));
        assert_eq!(last[2], json!({"role": "assistant", "content": "Fresh from the model!"}));
        assert_eq!(last[11], json!({"role": "user", "content": "message 7"}));
    }

    async fn when_the_model_fails_the_template_answers_and_the_call_succeeds(backend: Backend) {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(503))
            .expect(2)
            .mount(&server)
            .await;
        let app = app_with_model(backend, &server, &[("OPENAI_MAX_ATTEMPTS", "2")]).await;
        let user = app.signed_up("demo", "fallback@example.com").await;
        let id = plant(&app, &user).await;

        let response = app.chat(&user, &id, "hi there").await;

        assert_eq!(response.status, 200, "{}", response.body);
        let reply = response.json();
        assert_eq!(reply["source"], "fallback");
        assert!(templates("drama_queen", "greeting", "Fern").contains(&reply["reply"].as_str().unwrap().to_owned()));
    }

    async fn with_the_ai_flag_off_the_model_is_not_called(backend: Backend) {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;
        let app = app_with_model(backend, &server, &[("FEATURE_AI_CHAT_ENABLED", "false")]).await;
        let user = app.signed_up("demo", "flagged-off@example.com").await;
        let id = plant(&app, &user).await;

        assert_eq!(app.chat(&user, &id, "hello").await.json()["source"], "fallback");
    }

    async fn switching_the_ai_flag_through_the_admin_api_takes_effect_on_the_next_message(backend: Backend) {
        let server = openai_mock().await;
        let app = app_with_model(backend, &server, &[]).await;
        let user = app.signed_up("demo", "switched@example.com").await;
        let id = plant(&app, &user).await;

        assert_eq!(app.chat(&user, &id, "hello").await.json()["source"], "ai");
        assert_eq!(app.set_feature_flags(&json!({"ai_chat": false})).await.status, 200);
        assert_eq!(app.chat(&user, &id, "hello").await.json()["source"], "fallback");
        assert_eq!(sent_bodies(&server).await.len(), 1, "the model was not called while off");
        assert_eq!(app.set_feature_flags(&json!({"ai_chat": true})).await.status, 200);
        assert_eq!(app.chat(&user, &id, "hello").await.json()["source"], "ai");
    }

    async fn the_history_pages_newest_first(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "historian@example.com").await;
        let id = plant(&app, &user).await;
        let mut reply_ids = Vec::new();
        for n in 1..=3 {
            reply_ids.push(app.chat(&user, &id, &format!("message {n}")).await.json()["message_id"].clone());
        }

        let first = app.get_as(&user.access_token, &format!("/api/v2/plants/{id}/messages?limit=4")).await;
        assert_eq!(first.status, 200);
        let first = first.json();
        let items = first["items"].as_array().unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0]["id"], reply_ids[2]);
        assert_eq!(items[0]["direction"], "outbound");
        assert_eq!(items[0]["source"], "fallback");
        assert_eq!(items[1]["direction"], "inbound");
        assert_eq!(items[1]["body"], "message 3");
        assert_eq!(items[1]["source"], Value::Null);
        assert_eq!(items[1]["channel"], "web");
        assert_eq!(items[3]["body"], "message 2");

        let cursor = first["next_cursor"].as_str().unwrap();
        let second = app.get_as(&user.access_token, &format!("/api/v2/plants/{id}/messages?limit=4&cursor={cursor}")).await.json();
        let bodies: Vec<&Value> = second["items"].as_array().unwrap().iter().map(|m| &m["id"]).collect();
        assert_eq!(bodies.len(), 2);
        assert_eq!(second["items"][1]["body"], "message 1");
        assert_eq!(second["next_cursor"], Value::Null);
    }

    async fn a_message_must_be_one_to_a_thousand_characters(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "terse@example.com").await;
        let id = plant(&app, &user).await;
        let path = format!("/api/v2/plants/{id}/chat");
        let long = "a".repeat(1001);
        for body in [json!({}), json!({"message": ""}), json!({"message": "   "}), json!({"message": long})] {
            let response = app.post_json_as(&user.access_token, &path, &body).await;
            assert_eq!(response.status, 422, "{body}");
            assert_eq!(response.json()["errors"][0]["field"], "message");
        }
        assert_eq!(app.chat(&user, &id, &"a".repeat(1000)).await.status, 200);
        // Nothing refused was stored.
        let history = app.get_as(&user.access_token, &format!("/api/v2/plants/{id}/messages")).await.json();
        assert_eq!(history["items"].as_array().unwrap().len(), 2);
    }
}

on_both_backends! {
    async fn an_exchange_whose_reply_cannot_be_stored_stores_neither_message(backend: Backend) {
        use application::chat::MessageRepository as _;
        use domain::{
            chat::{Channel, Direction, Message, MessageId, ReplySource},
            identity::TenantId,
            plants::UserPlantId,
        };
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "atomic@example.com").await;
        let id = plant(&app, &user).await;
        let taken = app.chat(&user, &id, "Hello").await.json()["message_id"].as_str().unwrap().to_owned();
        let me = app.get_as(&user.access_token, "/api/v2/me").await.json();
        let tenant = TenantId::from_uuid(uuid::Uuid::parse_str(me["tenant_id"].as_str().unwrap()).unwrap());
        let settings = crate::helpers::test_settings(&app.database, &[]);
        let database = infrastructure::persistence::Database::connect(&settings.database).await.unwrap();
        let messages = infrastructure::persistence::plants::SeaOrmMessageRepository::new(database);
        let message = Message {
            id: MessageId::from_uuid(uuid::Uuid::now_v7()),
            plant_id: UserPlantId::from_uuid(uuid::Uuid::parse_str(&id).unwrap()),
            direction: Direction::Inbound,
            channel: Channel::Web,
            body: "never stored".to_owned(),
            source: None,
            created_at: chrono::Utc::now(),
        };
        // The reply takes the id of a stored message: its row cannot be written.
        let reply = Message {
            id: MessageId::from_uuid(uuid::Uuid::parse_str(&taken).unwrap()),
            direction: Direction::Outbound,
            body: "a reply whose id is taken".to_owned(),
            source: Some(ReplySource::Fallback),
            ..message.clone()
        };

        let stored = messages.append_exchange(tenant, &message, &reply).await;

        assert!(stored.is_err(), "{stored:?}");
        let history = app.get_as(&user.access_token, &format!("/api/v2/plants/{id}/messages")).await;
        assert_eq!(history.status, 200);
        assert!(!history.body.contains("never stored"), "{}", history.body);
    }
}

/// A plant's newest messages come off the (plant, id) index whatever plan PostgreSQL caches for
/// the prepared statement: a chatty plant's whole history is never sorted for its last ten.
#[tokio::test]
async fn a_plants_newest_messages_are_read_off_an_index_without_sorting_its_history() {
    use migration::sea_orm::{ConnectionTrait as _, Statement, TransactionTrait as _};

    let app = spawn_app(Backend::Postgres).await;
    let user = app.signed_up("demo", "chatty@example.com").await;
    let chatty = app.add_plant(&user, "Basil", "Chatty").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 0..30 {
        app.add_plant(&user, "Tomato", &format!("Quiet {n}")).await;
    }
    let db = crate::helpers::connect(&app.database.url).await;
    let run = |sql: String| {
        let db = &db;
        async move {
            db.execute_unprepared(&sql).await.unwrap();
        }
    };
    // 3,000 messages for the chatty plant, 10 for every quiet one, then fresh statistics.
    run(format!(
        "INSERT INTO messages (id, tenant_id, user_plant_id, direction, channel, body, created_at) \
         SELECT gen_random_uuid(), p.tenant_id, p.id, 'inbound', 'web', 'hello', now() \
         FROM user_plants p, generate_series(1, CASE WHEN p.id = '{chatty}' THEN 3000 ELSE 10 END)"
    ))
    .await;
    run("ANALYZE messages".to_owned()).await;
    let tenant: String = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT tenant_id::text AS tenant FROM user_plants WHERE id = '{chatty}'"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "tenant")
        .unwrap();

    // One connection for the whole sequence: a transaction holds it.
    let transaction = db.begin().await.unwrap();
    for sql in [
        "SET LOCAL plan_cache_mode = force_generic_plan",
        "PREPARE newest (uuid, uuid, bigint) AS SELECT id, body FROM messages \
         WHERE tenant_id = $1 AND user_plant_id = $2 ORDER BY id DESC LIMIT $3",
    ] {
        transaction.execute_unprepared(sql).await.unwrap();
    }
    let plan_lines: Vec<String> = transaction
        .query_all_raw(Statement::from_string(
            transaction.get_database_backend(),
            format!("EXPLAIN (FORMAT TEXT) EXECUTE newest ('{tenant}', '{chatty}', 10)"),
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "QUERY PLAN").unwrap())
        .collect();
    let whole_plan = plan_lines.join("\n");
    transaction.rollback().await.unwrap();

    assert!(plan_lines[0].starts_with("Limit"), "{whole_plan}");
    assert!(
        whole_plan.contains("ix_messages_plant_newest"),
        "{whole_plan}"
    );
    assert!(!whole_plan.contains("Sort"), "{whole_plan}");
}
