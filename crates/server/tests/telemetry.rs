//! Traces and logs through the whole server, with the subscriber production installs: spans
//! exported over OTLP/HTTP to an in-process receiver, log lines captured as JSON.
//!
//! A binary of its own, because the subscriber is global to the process: one per process, set
//! up once by the first test that asks for it.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "set-up code of the tests fails the test loudly"
)]

#[path = "api/helpers.rs"]
#[expect(
    dead_code,
    unused_macros,
    unused_imports,
    reason = "the API tests' helpers, of which these tests use a few"
)]
mod helpers;

use std::{
    collections::HashMap,
    io::Write,
    sync::{Arc, Mutex},
};

use helpers::{ADMIN_KEY, Backend, PASSWORD, TestApp, TestUser, spawn_app_with};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest,
    common::v1::{KeyValue, any_value::Value as AnyValue},
    trace::v1::Span,
};
use plant_texts_server::{
    config::Settings,
    telemetry::{self, TelemetryGuard},
};
use prost::Message as _;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tracing_subscriber::fmt::MakeWriter;
use wiremock::{
    Mock, MockServer, Request, ResponseTemplate,
    matchers::{method, path, path_regex},
};

const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
const TWILIO_TOKEN: &str = "twilio-auth-token-for-the-tests";
const PHONE: &str = "+14155552671";

/// Log lines, as the process writes them.
#[derive(Debug, Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buffer);
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'writer> MakeWriter<'writer> for CapturedLogs {
    type Writer = Self;

    fn make_writer(&'writer self) -> Self::Writer {
        self.clone()
    }
}

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The process's subscriber: its log capture, its span receiver and its exporter.
struct Telemetry {
    logs: CapturedLogs,
    receiver: MockServer,
    guard: Arc<TelemetryGuard>,
}

static TELEMETRY: OnceCell<Telemetry> = OnceCell::const_new();

async fn telemetry() -> &'static Telemetry {
    TELEMETRY
        .get_or_init(|| async {
            // wiremock serves from a thread of its own, so it outlives the test that started it.
            let receiver = MockServer::start().await;
            Mock::given(method("POST"))
                .and(path("/v1/traces"))
                .respond_with(ResponseTemplate::new(200))
                .mount(&receiver)
                .await;
            let settings = Settings::from_values(HashMap::from([
                ("APP_ENV".to_owned(), "test".to_owned()),
                ("LOG_FORMAT".to_owned(), "json".to_owned()),
                (
                    "RUST_LOG".to_owned(),
                    "info,sqlx=warn,sea_orm=warn".to_owned(),
                ),
                ("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), receiver.uri()),
                (
                    "OTEL_EXPORTER_OTLP_PROTOCOL".to_owned(),
                    "http/protobuf".to_owned(),
                ),
                ("OTEL_TRACES_SAMPLER_ARG".to_owned(), "1.0".to_owned()),
                (
                    "OTEL_SERVICE_NAME".to_owned(),
                    "plant-texts-under-test".to_owned(),
                ),
            ]))
            .expect("telemetry settings are valid");
            let logs = CapturedLogs::default();
            let guard = telemetry::init_with_writer(&settings, logs.clone());
            assert!(guard.is_exporting());
            Telemetry {
                logs,
                receiver,
                guard: Arc::new(guard),
            }
        })
        .await
}

impl Telemetry {
    /// Every span exported so far, after a flush.
    async fn spans(&self) -> Vec<Span> {
        let guard = Arc::clone(&self.guard);
        tokio::task::spawn_blocking(move || guard.flush())
            .await
            .unwrap();
        self.receiver
            .received_requests()
            .await
            .unwrap()
            .iter()
            .flat_map(|request| {
                ExportTraceServiceRequest::decode(request.body.as_slice())
                    .expect("an OTLP protobuf body")
                    .resource_spans
            })
            .inspect(|resource| {
                let attributes = &resource.resource.as_ref().unwrap().attributes;
                assert_eq!(
                    text(attributes, "service.name"),
                    Some("plant-texts-under-test")
                );
            })
            .flat_map(|resource| resource.scope_spans)
            .flat_map(|scope| scope.spans)
            .collect()
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()
}

fn text<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match attribute(attributes, key)? {
        AnyValue::StringValue(value) => Some(value),
        _ => None,
    }
}

fn integer(attributes: &[KeyValue], key: &str) -> Option<i64> {
    match attribute(attributes, key)? {
        AnyValue::IntValue(value) => Some(*value),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The span named `name` in `trace`, exactly one.
fn the_span<'a>(spans: &'a [Span], trace: &str, name: &str) -> &'a Span {
    let found: Vec<&Span> = spans
        .iter()
        .filter(|span| hex(&span.trace_id) == trace && span.name == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {name} in trace {trace}: {:?}",
        names(spans, trace)
    );
    found[0]
}

fn names(spans: &[Span], trace: &str) -> Vec<String> {
    spans
        .iter()
        .filter(|span| hex(&span.trace_id) == trace)
        .map(|span| span.name.clone())
        .collect()
}

/// Whether `ancestor` is `span`'s parent, or its parent's, and so on.
fn descends_from(spans: &[Span], span: &Span, ancestor: &Span) -> bool {
    let mut parent = span.parent_span_id.clone();
    while !parent.is_empty() {
        if parent == ancestor.span_id {
            return true;
        }
        parent = spans
            .iter()
            .find(|candidate| candidate.span_id == parent)
            .map(|candidate| candidate.parent_span_id.clone())
            .unwrap_or_default();
    }
    false
}

/// The `traceparent` a mock received: (trace id, parent span id).
fn traceparent(request: &Request) -> (String, String) {
    let value = request
        .headers
        .get("traceparent")
        .expect("the call carries traceparent")
        .to_str()
        .unwrap();
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!((parts.len(), parts[0]), (4, "00"), "{value}");
    (parts[1].to_owned(), parts[2].to_owned())
}

async fn openai() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"message": {"role": "assistant", "content": "Water me, please."}}]
        })))
        .mount(&server)
        .await;
    server
}

async fn twilio() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("/Messages.json$"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"}),
        ))
        .mount(&server)
        .await;
    server
}

/// An app exporting to `telemetry`'s receiver, every request sampled, calling the mocks.
async fn app_calling(telemetry: &Telemetry, openai: &MockServer, twilio: &MockServer) -> TestApp {
    let openai_url = format!("{}/v1", openai.uri());
    let twilio_url = twilio.uri();
    let receiver_url = telemetry.receiver.uri();
    spawn_app_with(
        Backend::Sqlite,
        &[
            // The exporter is the process's (installed above); the app decides what it samples.
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver_url.as_str()),
            ("OTEL_TRACES_SAMPLER_ARG", "1.0"),
            ("OPENAI_API_KEY", "sk-test-key-for-the-telemetry-tests"),
            ("OPENAI_BASE_URL", openai_url.as_str()),
            ("TWILIO_ACCOUNT_SID", TWILIO_SID),
            ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
            ("TWILIO_PHONE_NUMBER", "+15005550006"),
            ("TWILIO_BASE_URL", twilio_url.as_str()),
            ("PUBLIC_BASE_URL", "https://plants.example.test"),
        ],
    )
    .await
}

async fn request_code(app: &TestApp, user: &TestUser) {
    let phone = app
        .patch_json_as(
            &user.access_token,
            "/api/v2/me",
            &json!({"phone": PHONE, "sms_opt_in": true}),
        )
        .await;
    assert_eq!(phone.status, 200, "{}", phone.body);
    let code = app
        .post_json_as(
            &user.access_token,
            "/api/v2/me/phone/verification",
            &json!({}),
        )
        .await;
    assert!(code.status < 300, "{}", code.body);
}

#[tokio::test]
async fn a_request_is_traced_through_the_database_openai_twilio_and_the_rule_engine_but_probes_are_not()
 {
    let telemetry = telemetry().await;
    let openai = openai().await;
    let twilio = twilio().await;
    let app = app_calling(telemetry, &openai, &twilio).await;
    let user = app.signed_up("demo", "traced@example.com").await;
    let plant = app.add_plant(&user, "Basil", "Basilio").await;
    let plant_id = plant["id"].as_str().unwrap();

    // A chat whose caller is already tracing: its span joins the caller's trace.
    let caller_trace = "4bf92f3577b34da6a3ce929b0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let chat = app
        .send(
            |client, url| {
                client
                    .post(url)
                    .bearer_auth(&user.access_token)
                    .header("traceparent", format!("00-{caller_trace}-{caller_span}-01"))
                    .json(&json!({"message": "How are you?"}))
            },
            &format!("/api/v2/plants/{plant_id}/chat"),
        )
        .await;
    assert_eq!(chat.status, 200, "{}", chat.body);
    assert_eq!(chat.json()["source"], "ai", "{}", chat.body);
    let request_id = chat.header("x-request-id").unwrap().to_owned();

    // A request without a caller's trace starts one: the code texted through Twilio.
    request_code(&app, &user).await;

    // The rule engine.
    let garden = app
        .post_json_as(
            &user.access_token,
            "/api/v2/gardens",
            &json!({"name": "Plot", "width": 2, "length": 2}),
        )
        .await;
    let garden_id = garden.json()["id"].as_str().unwrap().to_owned();
    let analysis = app
        .get_as(
            &user.access_token,
            &format!("/api/v2/gardens/{garden_id}/analysis"),
        )
        .await;
    assert_eq!(analysis.status, 200);

    // Probes and scrapes, even with a caller's trace, are not traced.
    let probe_trace = "0af7651916cd43dd8448eb211c80319c";
    for probe in [
        "/health",
        "/health/live",
        "/health/ready",
        "/ready",
        "/metrics",
    ] {
        let answered = app
            .send(
                |client, url| {
                    client.get(url).header(
                        "traceparent",
                        format!("00-{probe_trace}-b7ad6b7169203331-01"),
                    )
                },
                probe,
            )
            .await;
        assert!(answered.status < 500, "{probe}");
    }

    // A caller whose trace is not sampled: nothing of the request is exported.
    let dropped_trace = "5e1f00aa0ba902b75e1f00aa0ba902b7";
    let listed = app
        .send(
            |client, url| {
                client.get(url).bearer_auth(&user.access_token).header(
                    "traceparent",
                    format!("00-{dropped_trace}-00f067aa0ba902b7-00"),
                )
            },
            "/api/v2/plants",
        )
        .await;
    assert_eq!(listed.status, 200);

    let spans = telemetry.spans().await;
    assert_eq!(
        names(&spans, dropped_trace),
        Vec::<String>::new(),
        "an unsampled trace stays unexported"
    );

    let request = the_span(&spans, caller_trace, "POST /api/v2/plants/{id}/chat");
    assert_eq!(
        hex(&request.parent_span_id),
        caller_span,
        "the caller's span is the parent"
    );
    assert_eq!(
        text(&request.attributes, "http.request.method"),
        Some("POST")
    );
    assert_eq!(
        text(&request.attributes, "http.route"),
        Some("/api/v2/plants/{id}/chat")
    );
    assert_eq!(
        integer(&request.attributes, "http.response.status_code"),
        Some(200),
        "{:?}",
        request.attributes
    );
    assert_eq!(
        text(&request.attributes, "url.path"),
        Some(format!("/api/v2/plants/{plant_id}/chat").as_str())
    );
    assert_eq!(
        text(&request.attributes, "request_id"),
        Some(request_id.as_str())
    );
    assert_eq!(hex(&request.trace_id), caller_trace);

    let model_call = the_span(&spans, caller_trace, "openai.chat_completion");
    assert!(
        descends_from(&spans, model_call, request),
        "the model call is inside the request"
    );
    let sent_to_openai = &openai.received_requests().await.unwrap()[0];
    assert_eq!(
        traceparent(sent_to_openai),
        (caller_trace.to_owned(), hex(&model_call.span_id)),
        "OpenAI is told the model call's span"
    );
    let statements: Vec<&Span> = spans
        .iter()
        .filter(|span| {
            hex(&span.trace_id) == caller_trace && text(&span.attributes, "db.system").is_some()
        })
        .collect();
    assert!(
        !statements.is_empty(),
        "database statements are spans: {:?}",
        names(&spans, caller_trace)
    );
    assert!(
        statements
            .iter()
            .all(|statement| descends_from(&spans, statement, request))
    );

    let sent_to_twilio = &twilio.received_requests().await.unwrap()[0];
    let (twilio_trace, twilio_parent) = traceparent(sent_to_twilio);
    let code_request = the_span(&spans, &twilio_trace, "POST /api/v2/me/phone/verification");
    assert!(
        code_request.parent_span_id.is_empty(),
        "a request without traceparent starts a trace"
    );
    let twilio_call = the_span(&spans, &twilio_trace, "twilio.send");
    assert_eq!(
        twilio_parent,
        hex(&twilio_call.span_id),
        "Twilio is told the send's span"
    );
    assert!(descends_from(&spans, twilio_call, code_request));

    let login = spans
        .iter()
        .find(|span| span.name == "POST /api/v2/auth/login")
        .expect("the login is traced");
    let verify = the_span(&spans, &hex(&login.trace_id), "argon2.verify");
    assert!(
        descends_from(&spans, verify, login),
        "password hashing is inside the login"
    );

    let analysis = spans
        .iter()
        .find(|span| span.name == "GET /api/v2/gardens/{id}/analysis")
        .expect("the analysis is traced");
    let rules = spans
        .iter()
        .filter(|span| span.name == "gardens.rule" && span.trace_id == analysis.trace_id)
        .count();
    assert_eq!(rules, 5, "one span per rule");

    assert!(
        spans.iter().all(|span| hex(&span.trace_id) != probe_trace
            && !text(&span.attributes, "url.path").is_some_and(|path| path.starts_with("/health")
                || path == "/ready"
                || path == "/metrics")),
        "probes and scrapes are not traced"
    );
}

#[tokio::test]
async fn an_error_is_recorded_on_its_span() {
    let telemetry = telemetry().await;
    let openai = openai().await;
    let twilio = twilio().await;
    let app = app_calling(telemetry, &openai, &twilio).await;
    // A statement that fails: the database is gone under the running app.
    let user = app.signed_up("demo", "broken@example.com").await;
    app.execute_sql("DROP TABLE user_plants", Vec::new()).await;
    let broken = app.get_as(&user.access_token, "/api/v2/plants").await;
    assert_eq!(broken.status, 500, "{}", broken.body);
    let request_id = broken.header("x-request-id").unwrap().to_owned();

    let spans = telemetry.spans().await;
    let request = spans
        .iter()
        .find(|span| text(&span.attributes, "request_id") == Some(request_id.as_str()))
        .expect("the failed request is traced");
    let status = request.status.as_ref().expect("a status");
    assert_eq!(status.code, 2, "STATUS_CODE_ERROR: {status:?}");
}

#[tokio::test]
async fn logs_carry_correlation_ids_and_never_a_secret_or_a_full_phone_number() {
    let telemetry = telemetry().await;
    let openai = openai().await;
    let twilio = twilio().await;
    let app = app_calling(telemetry, &openai, &twilio).await;

    let registered = app.register("demo", "private@example.com", PASSWORD).await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let login = app.login("demo", "private@example.com", PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let tokens = login.json();
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let user = TestUser {
        id: registered.json()["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        access_token: access_token.clone(),
        refresh_token: refresh_token.clone(),
    };
    request_code(&app, &user).await;
    let refused_login = app
        .login("demo", "private@example.com", "a wrong password")
        .await;
    assert_eq!(refused_login.status, 401);
    let admin = app
        .admin(
            Method::GET,
            Some(ADMIN_KEY),
            "/api/v2/admin/audit-log",
            None,
        )
        .await;
    assert_eq!(admin.status, 200);
    let wrong_admin_key = "a-wrong-admin-key-that-is-long-enough-0123";
    assert_eq!(
        app.admin(
            Method::GET,
            Some(wrong_admin_key),
            "/api/v2/admin/audit-log",
            None
        )
        .await
        .status,
        403
    );
    let signature = "c2lnbmF0dXJlLW9mLXRoZS10ZXN0";
    let webhook = app
        .send(
            |client, url| {
                client
                    .post(url)
                    .header("X-Twilio-Signature", signature)
                    .form(&[
                        ("From", PHONE),
                        ("To", "+15005550006"),
                        ("Body", "hello"),
                        ("AccountSid", TWILIO_SID),
                    ])
            },
            "/api/v2/webhooks/twilio/sms",
        )
        .await;
    assert_eq!(webhook.status, 403);
    // Code that logs carelessly: the redaction still holds.
    tracing::warn!(
        password = PASSWORD,
        authorization = %format!("Bearer {access_token}"),
        note = %format!("texting {PHONE} with refresh_token={refresh_token}"),
        "a careless log line"
    );

    let logs = telemetry.logs.text();
    for secret in [
        PASSWORD,
        "a wrong password",
        access_token.as_str(),
        refresh_token.as_str(),
        ADMIN_KEY,
        wrong_admin_key,
        signature,
        TWILIO_TOKEN,
        PHONE,
        "4155552671",
    ] {
        let line = logs.lines().find(|line| line.contains(secret));
        assert!(line.is_none(), "{secret} was logged: {line:?}");
    }

    let lines: Vec<Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is JSON"))
        .collect();
    let careless = lines
        .iter()
        .find(|line| line["message"] == "a careless log line")
        .expect("the careless line is logged");
    assert_eq!(careless["password"], "[REDACTED]");
    assert!(careless["note"].as_str().unwrap().contains("+1415***2671"));
    let login_id = login.header("x-request-id").unwrap();
    let completed = lines
        .iter()
        .find(|line| line["request_id"] == login_id && line["message"] == "request completed")
        .expect("the login's access log line");
    for field in ["timestamp", "level", "target", "trace_id", "span_id"] {
        assert!(completed[field].is_string(), "{field}: {completed}");
    }
    assert_eq!(completed["trace_id"].as_str().unwrap().len(), 32);
    assert_eq!(completed["method"], "POST");
    assert_eq!(completed["route"], "/api/v2/auth/login");
    assert_eq!(completed["status"], 200);
    assert!(completed["duration_ms"].is_u64(), "{completed}");
    assert_eq!(completed["service"], "plant-texts-under-test");
    assert_eq!(completed["environment"], "test");
}

#[tokio::test]
async fn with_traces_on_a_debug_line_is_skipped_without_asking_the_filters() {
    telemetry().await;
    // RUST_LOG says `info` and the exporter takes `info`: the process-wide ceiling stays there,
    // so every `debug!` and `trace!` costs one comparison. A filter without a level hint would
    // lift it to TRACE and send each of them through both layers' filters.
    assert_eq!(
        tracing::level_filters::LevelFilter::current(),
        tracing::level_filters::LevelFilter::INFO
    );
}
