//! The OpenAI adapter against a local mock of the chat completions API.
#![expect(clippy::unwrap_used, reason = "test helpers")]

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use application::chat::{ChatModel, ChatModelError, ChatPrompt, Speaker, Turn};
use async_trait::async_trait;
use domain::secret::Secret;
use plant_texts_infrastructure::openai::{OpenAiChatModel, OpenAiSettings, Pause};
use serde_json::json;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpListener,
};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path},
};

const KEY: &str = "sk-test-0123456789";

/// Records the waits between attempts instead of spending them.
#[derive(Debug, Default)]
struct RecordedPauses(Mutex<Vec<Duration>>);

#[async_trait]
impl Pause for RecordedPauses {
    async fn pause(&self, duration: Duration) {
        self.0.lock().unwrap().push(duration);
    }
}

impl RecordedPauses {
    fn taken(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

fn settings(base_url: &str) -> OpenAiSettings {
    OpenAiSettings {
        api_key: Secret::new(KEY),
        base_url: base_url.to_owned(),
        model: "gpt-4o-mini".to_owned(),
        max_tokens: 200,
        temperature: 0.8,
        attempt_timeout: Duration::from_secs(5),
        max_attempts: 3,
        budget: Duration::from_secs(20),
        initial_backoff: Duration::from_millis(500),
    }
}

fn model(settings: OpenAiSettings) -> (OpenAiChatModel, Arc<RecordedPauses>) {
    let pauses = Arc::new(RecordedPauses::default());
    let model = OpenAiChatModel::with_pause(settings, pauses.clone()).unwrap();
    (model, pauses)
}

fn prompt() -> ChatPrompt {
    ChatPrompt {
        system_prompt: "You are a fern.".to_owned(),
        history: vec![
            Turn {
                speaker: Speaker::Owner,
                text: "hi".to_owned(),
            },
            Turn {
                speaker: Speaker::Plant,
                text: "hello!".to_owned(),
            },
        ],
        message: "need water?".to_owned(),
    }
}

fn completion(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }))
}

/// Answers the first request with `first` and every later one with a completion.
async fn failing_once_then_answering(first: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion("a sip, please"))
        .mount(&server)
        .await;
    server
}

/// A mock answering every request with `template`, expecting `expected` requests when given.
async fn answering_every_request(template: ResponseTemplate, expected: Option<u64>) -> MockServer {
    let server = MockServer::start().await;
    let mock = Mock::given(method("POST")).respond_with(template);
    match expected {
        Some(count) => mock.expect(count),
        None => mock,
    }
    .mount(&server)
    .await;
    server
}

/// The OpenAI base URL of `server`.
fn api_base(server: &MockServer) -> String {
    format!("{}/v1", server.uri())
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn the_request_carries_the_prompt_the_history_the_settings_and_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are a fern."},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello!"},
                {"role": "user", "content": "need water?"},
            ],
            "max_tokens": 200,
            "temperature": 0.8,
        })))
        .respond_with(completion("yes please"))
        .expect(1)
        .mount(&server)
        .await;
    let (model, pauses) = model(settings(&api_base(&server)));

    let reply = model.reply(&prompt()).await.unwrap();

    assert_eq!(reply, "yes please");
    assert!(pauses.taken().is_empty());
}

#[tokio::test]
async fn a_429_is_retried_after_the_time_its_retry_after_asks_for() {
    let server = failing_once_then_answering(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "2")
            .set_body_json(json!({"error": {"type": "requests", "code": "rate_limit_exceeded"}})),
    )
    .await;
    let (model, pauses) = model(settings(&api_base(&server)));

    assert_eq!(model.reply(&prompt()).await.unwrap(), "a sip, please");
    assert_eq!(pauses.taken(), [Duration::from_secs(2)]);
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn server_errors_are_retried_with_a_jittered_backoff() {
    for status in [500, 502, 503, 504, 408, 409] {
        let server = failing_once_then_answering(ResponseTemplate::new(status)).await;
        let (model, pauses) = model(settings(&api_base(&server)));

        assert_eq!(
            model.reply(&prompt()).await.unwrap(),
            "a sip, please",
            "{status}"
        );
        let waits = pauses.taken();
        assert_eq!(waits.len(), 1, "{status}");
        assert!(
            (Duration::from_millis(375)..=Duration::from_millis(625)).contains(&waits[0]),
            "{status}: 0.5 s +- 25 %, got {:?}",
            waits[0]
        );
    }
}

#[tokio::test]
async fn the_backoff_doubles_and_the_last_attempt_ends_in_unavailable() {
    let server = answering_every_request(ResponseTemplate::new(503), Some(3)).await;
    let (model, pauses) = model(settings(&api_base(&server)));

    let error = model.reply(&prompt()).await.unwrap_err();

    assert!(
        matches!(error, ChatModelError::Unavailable { attempts: 3, .. }),
        "{error:?}"
    );
    let waits = pauses.taken();
    assert_eq!(waits.len(), 2);
    assert!(waits[1] > waits[0], "{waits:?}");
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    // A server that hangs up on the first connection and answers the second.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (first, _) = listener.accept().await.unwrap();
        drop(first);
        let (mut second, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buffer = [0_u8; 4096];
        loop {
            let read = second.read(&mut buffer).await.unwrap();
            request.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&request);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    break;
                }
            }
        }
        let body = json!({"choices": [{"message": {"content": "still here"}}]}).to_string();
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        second.write_all(response.as_bytes()).await.unwrap();
    });
    let (model, pauses) = model(settings(&format!("http://{address}/v1")));

    assert_eq!(model.reply(&prompt()).await.unwrap(), "still here");
    assert_eq!(pauses.taken().len(), 1);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for status in [400, 401, 403, 404] {
        let server = answering_every_request(ResponseTemplate::new(status), Some(1)).await;
        let (model, pauses) = model(settings(&api_base(&server)));

        let error = model.reply(&prompt()).await.unwrap_err();

        assert!(
            matches!(error, ChatModelError::Refused { status: s } if s == status),
            "{error:?}"
        );
        assert!(pauses.taken().is_empty());
    }
}

#[tokio::test]
async fn an_exhausted_quota_is_not_retried() {
    let server = answering_every_request(ResponseTemplate::new(429).set_body_json(json!({
            "error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}
        })), Some(1)).await;
    let (model, pauses) = model(settings(&api_base(&server)));

    let error = model.reply(&prompt()).await.unwrap_err();

    assert!(matches!(error, ChatModelError::QuotaExhausted), "{error:?}");
    assert!(pauses.taken().is_empty());
}

#[tokio::test]
async fn an_attempt_that_outlasts_its_timeout_is_abandoned_and_retried() {
    let server = answering_every_request(
        completion("too late").set_delay(Duration::from_secs(5)),
        Some(2),
    )
    .await;
    let mut settings = settings(&api_base(&server));
    settings.attempt_timeout = Duration::from_millis(200);
    settings.max_attempts = 2;
    settings.initial_backoff = Duration::from_millis(1);
    let (model, _) = model(settings);

    let error = model.reply(&prompt()).await.unwrap_err();

    assert!(
        matches!(&error, ChatModelError::Unavailable { attempts: 2, last_error } if last_error.contains("timed out")),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_overall_budget_ends_the_attempts_before_the_attempt_limit() {
    let server = answering_every_request(
        completion("too late").set_delay(Duration::from_secs(5)),
        None,
    )
    .await;
    let mut settings = settings(&api_base(&server));
    settings.attempt_timeout = Duration::from_millis(300);
    settings.budget = Duration::from_millis(450);
    settings.max_attempts = 10;
    settings.initial_backoff = Duration::from_millis(1);
    let (model, _) = model(settings);

    let error = model.reply(&prompt()).await.unwrap_err();

    // The first attempt spends 300 ms, the second only what is left of 450 ms; no third.
    assert!(
        matches!(error, ChatModelError::Unavailable { attempts: 2, .. }),
        "{error:?}"
    );
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_ends_the_retries_at_once() {
    let server = answering_every_request(
        ResponseTemplate::new(429).insert_header("retry-after", "60"),
        Some(1),
    )
    .await;
    let (model, pauses) = model(settings(&api_base(&server)));

    let error = model.reply(&prompt()).await.unwrap_err();

    assert!(
        matches!(error, ChatModelError::Unavailable { attempts: 1, .. }),
        "{error:?}"
    );
    assert!(pauses.taken().is_empty());
}

#[tokio::test]
async fn an_answer_without_choices_is_invalid() {
    let server = answering_every_request(
        ResponseTemplate::new(200).set_body_json(json!({"choices": []})),
        None,
    )
    .await;
    let (model, _) = model(settings(&api_base(&server)));

    let error = model.reply(&prompt()).await.unwrap_err();

    assert!(
        matches!(error, ChatModelError::InvalidAnswer(_)),
        "{error:?}"
    );
}

#[test]
fn the_api_key_never_shows_in_debug_output() {
    let model = OpenAiChatModel::new(settings("http://127.0.0.1:9/v1")).unwrap();
    assert!(!format!("{model:?}").contains(KEY));
}
