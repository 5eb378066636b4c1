//! Idempotency-Key on the create endpoints, through the real app and database: replay byte for
//! byte, mismatch, per-user keys, concurrent duplicates, retries while the first runs, and
//! replays served by another instance.

use std::time::Duration;

use plant_texts_server::startup::Application;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

use crate::helpers::{
    Backend, TestApp, TestResponse, TestUser, on_both_backends, spawn_app, spawn_app_with,
    test_settings,
};

impl TestApp {
    /// POSTs `body` as `user` with `key` as Idempotency-Key.
    async fn post_once(
        &self,
        user: &TestUser,
        key: &str,
        path: &str,
        body: &Value,
    ) -> TestResponse {
        self.send(
            |client, url| {
                client
                    .post(url)
                    .bearer_auth(&user.access_token)
                    .header("Idempotency-Key", key)
                    .json(body)
            },
            path,
        )
        .await
    }

    async fn plant_count(&self, user: &TestUser) -> usize {
        self.get_as(&user.access_token, "/api/v2/plants")
            .await
            .json()["items"]
            .as_array()
            .unwrap()
            .len()
    }
}

async fn new_plant(app: &TestApp, nickname: &str) -> Value {
    json!({"catalog_plant_id": app.catalog_id("Boston Fern").await, "nickname": nickname})
}

on_both_backends! {
    async fn a_retry_with_the_same_key_replays_the_first_response_byte_for_byte(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let body = new_plant(&app, "Fern").await;

        let first = app.post_once(&user, "key-1", "/api/v2/plants", &body).await;
        let retry = app.post_once(&user, "key-1", "/api/v2/plants", &body).await;

        assert_eq!(first.status, 201, "{}", first.body);
        assert_eq!(retry.status, 201);
        assert_eq!(retry.body, first.body);
        assert_eq!(retry.header("location"), first.header("location"));
        assert_eq!(retry.header("content-type"), first.header("content-type"));
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(first.header("idempotent-replayed"), None);
        assert_eq!(app.plant_count(&user).await, 1);
        // Every header of the first answer, `Cache-Control: no-store` included, is on the
        // replay; only the request's own ones differ.
        let own = ["x-request-id", "date", "idempotent-replayed"];
        let headers = |response: &TestResponse| {
            let mut headers: Vec<(String, String)> = response
                .headers
                .iter()
                .filter(|(name, _)| !own.contains(&name.as_str()) && !name.as_str().contains("ratelimit"))
                .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
                .collect();
            headers.sort();
            headers
        };
        assert_eq!(headers(&retry), headers(&first));
        assert_eq!(retry.header("cache-control"), Some("no-store"));
    }

    async fn the_same_key_with_another_body_is_refused(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        assert_eq!(app.post_once(&user, "key-2", "/api/v2/plants", &new_plant(&app, "Fern").await).await.status, 201);

        let other = app.post_once(&user, "key-2", "/api/v2/plants", &new_plant(&app, "Ivy").await).await;

        assert_eq!(other.status, 422);
        assert_eq!(other.json()["code"], "ERR_IDEMPOTENCY_001");
        assert_eq!(app.plant_count(&user).await, 1);
    }

    async fn keys_belong_to_their_user(backend: Backend) {
        let app = spawn_app(backend).await;
        let ada = app.signed_up("demo", "ada@example.com").await;
        let grace = app.signed_up("demo", "grace@example.com").await;
        let body = new_plant(&app, "Fern").await;

        let adas = app.post_once(&ada, "shared-key", "/api/v2/plants", &body).await;
        let graces = app.post_once(&grace, "shared-key", "/api/v2/plants", &body).await;

        assert_eq!(graces.status, 201);
        assert_eq!(graces.header("idempotent-replayed"), None, "never another user's response");
        assert_ne!(graces.json()["id"], adas.json()["id"]);
    }

    async fn two_concurrent_requests_with_one_key_create_one_plant(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let body = new_plant(&app, "Fern").await;

        let (a, b) = tokio::join!(
            app.post_once(&user, "key-3", "/api/v2/plants", &body),
            app.post_once(&user, "key-3", "/api/v2/plants", &body),
        );

        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert!(statuses == [201, 201] || statuses == [201, 409], "{statuses:?}");
        assert_eq!(app.plant_count(&user).await, 1);
    }

    async fn a_key_outside_one_to_255_characters_is_refused(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;

        let response = app.post_once(&user, &"k".repeat(256), "/api/v2/plants", &new_plant(&app, "Fern").await).await;

        assert_eq!(response.status, 422);
        assert_eq!(response.json()["errors"][0]["field"], "Idempotency-Key");
        assert_eq!(app.plant_count(&user).await, 0);
    }

    async fn another_instance_on_the_same_database_replays_the_response(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let body = new_plant(&app, "Fern").await;
        let first = app.post_once(&user, "key-4", "/api/v2/plants", &body).await;

        // A second instance — or this one after a restart — on the same database.
        let second = Application::build(&test_settings(&app.database, &[])).await.unwrap();
        let address = format!("http://127.0.0.1:{}", second.port());
        tokio::spawn(second.run_until_stopped(std::future::pending()));
        let replay = app
            .client
            .post(format!("{address}/api/v2/plants"))
            .bearer_auth(&user.access_token)
            .header("Idempotency-Key", "key-4")
            .json(&body)
            .send()
            .await
            .unwrap();

        assert_eq!(replay.status().as_u16(), 201);
        assert_eq!(replay.text().await.unwrap(), first.body);
        assert_eq!(app.plant_count(&user).await, 1);
    }
}

#[tokio::test]
async fn a_retry_while_the_first_request_runs_is_409_then_the_reply_is_replayed() {
    let model = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"choices": [{"message": {"role": "assistant", "content": "Slowly, yes."}}]}))
                .set_delay(Duration::from_millis(1500)),
        )
        .mount(&model)
        .await;
    let base_url = format!("{}/v1", model.uri());
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("OPENAI_API_KEY", "sk-test-key"),
            ("OPENAI_BASE_URL", base_url.as_str()),
        ],
    )
    .await;
    let user = app.signed_up("demo", "ada@example.com").await;
    let plant = app.add_plant(&user, "Boston Fern", "Fern").await;
    let path = format!("/api/v2/plants/{}/chat", plant["id"].as_str().unwrap());
    let body = json!({"message": "how are you?"});

    let first = {
        let (app, user, path, body) = (&app, &user, path.clone(), body.clone());
        async move { app.post_once(user, "chat-1", &path, &body).await }
    };
    let retry_while_running = async {
        // The first request is running once the model has it.
        while model
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        app.post_once(&user, "chat-1", &path, &json!({"message": "another body"}))
            .await
    };
    let (first, during) = tokio::join!(first, retry_while_running);

    assert_eq!(during.status, 409, "{}", during.body);
    assert_eq!(during.json()["code"], "ERR_IDEMPOTENCY_002");
    assert_eq!(first.status, 200);
    let after = app.post_once(&user, "chat-1", &path, &body).await;
    assert_eq!(after.body, first.body);
    assert_eq!(
        model.received_requests().await.unwrap().len(),
        1,
        "the model was asked once"
    );
}
