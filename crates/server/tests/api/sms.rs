//! Twilio's webhooks through the real app: signatures (checked against Twilio's documented
//! example), inbound texts with keywords, plant routing, once-only processing and escaped TwiML,
//! and delivery reports that only move an SMS-log entry forward.

use std::sync::Arc;

use application::compose::{UseCases, compose};
use application::flags::Flag;
use base64::{Engine as _, engine::general_purpose::STANDARD};
use domain::{phone::PhoneNumber, sms::SmsBody};
use hmac::{Hmac, KeyInit as _, Mac as _};
use infrastructure::{flags::InMemoryFlags, persistence::Database};
use migration::sea_orm::{ConnectionTrait as _, Statement};
use plant_texts_server::startup::{adapters, tunables};
use serde_json::json;
use sha1::Sha1;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

use crate::helpers::{
    Backend, TestApp, TestClock, TestDatabase, TestResponse, TestUser, on_both_backends, spawn_app,
    spawn_app_with, test_settings,
};

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "twilio-auth-token-for-the-tests";
pub const OUR_NUMBER: &str = "+15005550006";
/// What Twilio calls: the signatures cover this origin, not the test server's address.
pub const PUBLIC_BASE_URL: &str = "https://plants.example.test";
const INBOUND_PATH: &str = "/api/v2/webhooks/twilio/sms";
const STATUS_PATH: &str = "/api/v2/webhooks/twilio/status";

/// Twilio's published algorithm, written independently of the server's: base64 of the
/// HMAC-SHA1, keyed with the auth token, of the URL followed by each parameter's name and value
/// in name order.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort_by_key(|(name, _)| *name);
    let mut data = url.to_owned();
    for (name, value) in sorted {
        data.push_str(name);
        data.push_str(value);
    }
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[test]
fn the_test_signer_reproduces_twilios_documented_example() {
    // From Twilio's security documentation ("Validating Signatures from Twilio").
    let params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675310"),
        ("Digits", "1234"),
        ("From", "+14158675310"),
        ("To", "+18005551212"),
    ];
    assert_eq!(
        twilio_signature(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &params
        ),
        "GvWf1cFY/Q7PnoempGyD5oXAezc="
    );
}

/// The settings that switch Twilio on, sending to `api` (a mock of Twilio's API).
pub fn twilio_overrides(api: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID.to_owned()),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN.to_owned()),
        ("TWILIO_PHONE_NUMBER", OUR_NUMBER.to_owned()),
        ("TWILIO_BASE_URL", api.to_owned()),
        ("PUBLIC_BASE_URL", PUBLIC_BASE_URL.to_owned()),
    ]
}

pub(crate) async fn spawn_twilio_app(backend: Backend) -> TestApp {
    spawn_twilio_app_with(backend, "http://127.0.0.1:9", &[]).await
}

/// An app with Twilio switched on, sending to `api`, with `extra` settings.
pub(crate) async fn spawn_twilio_app_with(
    backend: Backend,
    api: &str,
    extra: &[(&str, &str)],
) -> TestApp {
    let overrides = twilio_overrides(api);
    let mut overrides: Vec<(&str, &str)> =
        overrides.iter().map(|(k, v)| (*k, v.as_str())).collect();
    overrides.extend_from_slice(extra);
    spawn_app_with(backend, &overrides).await
}

impl TestApp {
    /// POSTs `params` form-encoded to `path` with `signature` as X-Twilio-Signature.
    pub(crate) async fn post_webhook(
        &self,
        path: &str,
        params: &[(&str, &str)],
        signature: Option<&str>,
    ) -> TestResponse {
        self.send(
            |client, url| {
                let request = client.post(url).form(params);
                match signature {
                    Some(signature) => request.header("X-Twilio-Signature", signature),
                    None => request,
                }
            },
            path,
        )
        .await
    }

    /// POSTs `params` to `path`, signed as Twilio signs it.
    pub(crate) async fn post_signed(&self, path: &str, params: &[(&str, &str)]) -> TestResponse {
        let signature = twilio_signature(AUTH_TOKEN, &format!("{PUBLIC_BASE_URL}{path}"), params);
        self.post_webhook(path, params, Some(&signature)).await
    }

    /// A text from `from` saying `body`, as Twilio delivers it.
    pub(crate) async fn text(&self, message_sid: &str, from: &str, body: &str) -> TestResponse {
        self.post_signed(
            INBOUND_PATH,
            &[
                ("AccountSid", ACCOUNT_SID),
                ("MessageSid", message_sid),
                ("From", from),
                ("To", OUR_NUMBER),
                ("Body", body),
                ("NumMedia", "0"),
            ],
        )
        .await
    }

    /// A user with `phone`, opted in to texts.
    pub(crate) async fn texting_user(&self, email: &str, phone: &str) -> TestUser {
        let user = self.signed_up("demo", email).await;
        let response = self
            .patch_json_as(
                &user.access_token,
                "/api/v2/me",
                &json!({"phone": phone, "sms_opt_in": true}),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        user
    }

    /// A user with `phone` verified and opted in to texts.
    pub(crate) async fn verified_texting_user(&self, email: &str, phone: &str) -> TestUser {
        let user = self.texting_user(email, phone).await;
        self.verify_phone_directly(&user.id).await;
        user
    }
}

/// The text of the one `<Message>` of a TwiML answer.
fn twiml_message(response: &TestResponse) -> String {
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        response.header("content-type"),
        Some("text/xml; charset=utf-8")
    );
    let body = &response.body;
    let prefix = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>";
    let suffix = "</Message></Response>";
    assert!(
        body.starts_with(prefix) && body.ends_with(suffix),
        "not a one-message TwiML document: {body}"
    );
    body[prefix.len()..body.len() - suffix.len()].to_owned()
}

fn assert_refused(response: &TestResponse) {
    assert_eq!(response.status, 403, "{}", response.body);
    assert_eq!(response.json()["code"], "ERR_WEBHOOK_001");
}

on_both_backends! {
    async fn a_signed_text_is_answered_by_the_named_plant_and_stored(backend: Backend) {
        let app = spawn_twilio_app(backend).await;
        let user = app.verified_texting_user("fern@example.com", "+15551230001").await;
        let fern = app.add_plant(&user, "Boston Fern", "Fern").await;

        let reply = twiml_message(&app.text("SM0001", "+15551230001", "Fern: hello there").await);

        assert!(reply.starts_with("Fern: "), "{reply}");
        let history = app
            .get_as(&user.access_token, &format!("/api/v2/plants/{}/messages", fern["id"].as_str().unwrap()))
            .await
            .json();
        let items = history["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1]["body"], "hello there");
        assert_eq!(items[1]["direction"], "inbound");
        assert_eq!(items[1]["channel"], "sms");
        assert_eq!(items[0]["direction"], "outbound");
        assert_eq!(format!("Fern: {}", items[0]["body"].as_str().unwrap()), reply);
    }

    async fn unsigned_tampered_and_foreign_webhooks_are_refused(backend: Backend) {
        let app = spawn_twilio_app(backend).await;
        let user = app.verified_texting_user("fern@example.com", "+15551230002").await;
        let fern = app.add_plant(&user, "Boston Fern", "Fern").await;
        let params = [
            ("AccountSid", ACCOUNT_SID),
            ("MessageSid", "SM0002"),
            ("From", "+15551230002"),
            ("To", OUR_NUMBER),
            ("Body", "hello"),
        ];
        let url = format!("{PUBLIC_BASE_URL}{INBOUND_PATH}");
        let signature = twilio_signature(AUTH_TOKEN, &url, &params);

        assert_refused(&app.post_webhook(INBOUND_PATH, &params, None).await);
        assert_refused(&app.post_webhook(INBOUND_PATH, &params, Some("")).await);
        let mut tampered = params;
        tampered[4] = ("Body", "hello!");
        assert_refused(&app.post_webhook(INBOUND_PATH, &tampered, Some(&signature)).await);
        let other_url = twilio_signature(AUTH_TOKEN, &format!("{url}?retry=1"), &params);
        assert_refused(&app.post_webhook(INBOUND_PATH, &params, Some(&other_url)).await);
        let other_token = twilio_signature("another-token", &url, &params);
        assert_refused(&app.post_webhook(INBOUND_PATH, &params, Some(&other_token)).await);
        let mut foreign = params;
        foreign[0] = ("AccountSid", "AC99999999999999999999999999999999");
        assert_refused(&app.post_signed(INBOUND_PATH, &foreign).await);
        assert_refused(&app.post_signed(INBOUND_PATH, &params[1..]).await);
        assert_refused(&app.post_webhook(STATUS_PATH, &[("AccountSid", ACCOUNT_SID), ("MessageSid", "SM1"), ("MessageStatus", "delivered")], None).await);

        // Nothing reached the plant; the signed original does.
        let history = app
            .get_as(&user.access_token, &format!("/api/v2/plants/{}/messages", fern["id"].as_str().unwrap()))
            .await
            .json();
        assert_eq!(history["items"].as_array().unwrap().len(), 0);
        assert_eq!(app.post_webhook(INBOUND_PATH, &params, Some(&signature)).await.status, 200);
    }

    async fn a_repeated_message_sid_gets_the_same_answer_without_being_processed_again(backend: Backend) {
        let app = spawn_twilio_app(backend).await;
        let user = app.verified_texting_user("fern@example.com", "+15551230003").await;
        let fern = app.add_plant(&user, "Boston Fern", "Fern").await;

        let first = app.text("SM0003", "+15551230003", "how are you?").await;
        let second = app.text("SM0003", "+15551230003", "how are you?").await;

        assert_eq!(twiml_message(&first), twiml_message(&second));
        let history = app
            .get_as(&user.access_token, &format!("/api/v2/plants/{}/messages", fern["id"].as_str().unwrap()))
            .await
            .json();
        assert_eq!(history["items"].as_array().unwrap().len(), 2, "one exchange, not two");
    }

    async fn stop_and_start_withdraw_and_give_consent(backend: Backend) {
        let app = spawn_twilio_app(backend).await;
        let user = app.verified_texting_user("fern@example.com", "+15551230004").await;
        let consent = || async { app.get_as(&user.access_token, "/api/v2/me").await.json()["sms_opt_in"].clone() };

        let stop = twiml_message(&app.text("SM0041", "+15551230004", "  Stop ").await);
        assert!(stop.contains("no more reminders"), "{stop}");
        assert_eq!(consent().await, false);

        let start = twiml_message(&app.text("SM0042", "+15551230004", "UNSTOP").await);
        assert!(start.contains("back on"), "{start}");
        assert_eq!(consent().await, true);

        let quit = twiml_message(&app.text("SM0043", "+15551230004", "quit").await);
        assert_eq!(quit, stop);
        assert_eq!(consent().await, false);

        let help = twiml_message(&app.text("SM0044", "+15551230004", "info").await);
        assert!(help.contains("STOP"), "{help}");
        assert_eq!(consent().await, false);
    }

    async fn texts_go_to_the_named_plant_else_to_the_one_talked_to_last(backend: Backend) {
        let app = spawn_twilio_app(backend).await;
        let user = app.verified_texting_user("fern@example.com", "+15551230005").await;
        app.add_plant(&user, "Boston Fern", "Fern").await;
        app.add_plant(&user, "Snake Plant", "Sammy").await;
        let from = "+15551230005";

        // Nobody talked to yet: the newest plant answers.
        assert!(twiml_message(&app.text("SM0051", from, "hi").await).starts_with("Sammy: "));
        assert!(twiml_message(&app.text("SM0052", from, "fern: hi").await).starts_with("Fern: "));
        // Not named: the one talked to last.
        assert!(twiml_message(&app.text("SM0053", from, "and now?").await).starts_with("Fern: "));
        // A name that is no plant's is part of the message.
        assert!(twiml_message(&app.text("SM0054", from, "Note: water soon").await).starts_with("Fern: "));
        assert!(twiml_message(&app.text("SM0055", from, "SAMMY: hey").await).starts_with("Sammy: "));
    }

    async fn markup_in_a_reply_is_escaped_in_the_twiml(backend: Backend) {
        let app = spawn_twilio_app(backend).await;
        let user = app.verified_texting_user("fern@example.com", "+15551230006").await;
        app.add_plant(&user, "Boston Fern", "<b>Tom & \"Jerry\"</b>").await;

        let response = app.text("SM0061", "+15551230006", "hello").await;

        let reply = twiml_message(&response);
        assert!(
            reply.starts_with("&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;: "),
            "{reply}"
        );
        assert!(!reply.contains('<') && !reply.contains('>'));
    }

    async fn an_unknown_number_gets_a_short_hint(backend: Backend) {
        let app = spawn_twilio_app(backend).await;

        let reply = twiml_message(&app.text("SM0071", "+15559999999", "hello?").await);

        assert!(reply.contains("not linked to an account"), "{reply}");
        assert!(reply.chars().count() < 160, "one SMS segment");
    }

    async fn delivery_reports_move_an_entry_forward_only(backend: Backend) {
        let (app, channel, _twilio) = app_after_one_text(backend, "SM_REPORTED", "queued").await;
        let report = |status: &'static str| {
            let app = &app;
            async move {
                let params = [
                    ("AccountSid", ACCOUNT_SID),
                    ("MessageSid", "SM_REPORTED"),
                    ("MessageStatus", status),
                    ("ErrorCode", "30003"),
                ];
                let response = app.post_signed(STATUS_PATH, &params).await;
                assert_eq!(response.status, 204, "{}", response.body);
            }
        };

        report("sent").await;
        assert_eq!(channel.entry("SM_REPORTED").await, ("sent".to_owned(), false, false));
        report("delivered").await;
        assert_eq!(channel.entry("SM_REPORTED").await, ("delivered".to_owned(), true, false));
        for late in ["sent", "queued", "failed", "undelivered"] {
            report(late).await;
            assert_eq!(channel.entry("SM_REPORTED").await, ("delivered".to_owned(), true, false), "after {late}");
        }
        // A report about a message we never sent is taken and ignored.
        let unknown = app
            .post_signed(STATUS_PATH, &[("AccountSid", ACCOUNT_SID), ("MessageSid", "SM_UNKNOWN"), ("MessageStatus", "delivered")])
            .await;
        assert_eq!(unknown.status, 204);
    }

    async fn an_undelivered_report_records_when_and_why(backend: Backend) {
        let (app, channel, _twilio) = app_after_one_text(backend, "SM_LOST", "sent").await;

        let params = [("AccountSid", ACCOUNT_SID), ("MessageSid", "SM_LOST"), ("MessageStatus", "undelivered"), ("ErrorCode", "30003")];
        assert_eq!(app.post_signed(STATUS_PATH, &params).await.status, 204);

        assert_eq!(channel.entry("SM_LOST").await, ("undelivered".to_owned(), false, true));
        assert_eq!(channel.error_code("SM_LOST").await.as_deref(), Some("30003"));
    }
}

/// An app with Twilio switched on and one text already sent, which Twilio accepted as `sid` with
/// `status`; the SMS channel to look at its log; the mock that stands in for Twilio.
async fn app_after_one_text(
    backend: Backend,
    sid: &str,
    status: &str,
) -> (TestApp, SmsChannel, MockServer) {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        )))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"sid": sid, "status": status})),
        )
        .mount(&twilio)
        .await;
    let overrides = twilio_overrides(&twilio.uri());
    let overrides: Vec<(&str, &str)> = overrides.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(backend, &overrides).await;
    let channel = SmsChannel::over(&app.database, &overrides).await;
    let sent = channel
        .sms
        .outbox
        .send(
            None,
            PhoneNumber::parse("+15551230008").unwrap(),
            SmsBody::parse("hi").unwrap(),
            domain::sms::SmsPurpose::Message,
        )
        .await
        .unwrap();
    assert_eq!(sent.as_str(), status);
    (app, channel, twilio)
}

#[tokio::test]
async fn in_demo_mode_every_webhook_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let params = [
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", "SM1"),
        ("From", "+15551230010"),
        ("Body", "hi"),
    ];
    assert_refused(&app.post_signed(INBOUND_PATH, &params).await);
    assert_refused(&app.post_signed(STATUS_PATH, &params).await);
}

/// The use cases over a test database, as a second instance of the server would have them,
/// composed as production composes them, on a clock the test moves.
pub struct SmsChannel {
    pub sms: UseCases,
    /// This instance's flags, following the stored ones on `reload`.
    pub flags: application::flags::Switchboard,
    pub clock: Arc<TestClock>,
    pub database: Database,
}

impl SmsChannel {
    pub async fn over(test_database: &TestDatabase, overrides: &[(&str, &str)]) -> Self {
        Self::composed(test_database, overrides, None, TestClock::new()).await
    }

    /// The same, sending through `sender` (when given) instead of the configured provider.
    pub async fn over_sending_with(
        test_database: &TestDatabase,
        overrides: &[(&str, &str)],
        sender: Option<Arc<dyn application::sms::SmsSender>>,
    ) -> Self {
        Self::composed(test_database, overrides, sender, TestClock::new()).await
    }

    /// Another instance over the same database, on the same `clock`.
    pub async fn on_clock(test_database: &TestDatabase, clock: Arc<TestClock>) -> Self {
        Self::composed(test_database, &[], None, clock).await
    }

    async fn composed(
        test_database: &TestDatabase,
        overrides: &[(&str, &str)],
        sender: Option<Arc<dyn application::sms::SmsSender>>,
        clock: Arc<TestClock>,
    ) -> Self {
        let settings = test_settings(test_database, overrides);
        let database = Database::connect(&settings.database).await.unwrap();
        let reminders_on = settings.flags.sms_reminders;
        let mut adapters = adapters(
            &database,
            None,
            &settings,
            application::metrics::Metrics::default(),
        )
        .unwrap();
        adapters.flags = Arc::new(InMemoryFlags::new(move |flag| match flag {
            Flag::AiChat => false,
            Flag::SmsReminders => reminders_on,
            _ => true,
        }));
        adapters.clock = clock.clone();
        if let Some(sender) = sender {
            adapters.sms_sender = sender;
        }
        let sms = compose(adapters, tunables(&settings));
        Self {
            flags: sms.switchboard.clone(),
            sms,
            clock,
            database,
        }
    }

    async fn query(&self, sql: &str, provider_id: &str) -> migration::sea_orm::QueryResult {
        let connection = self.database.connection();
        let sql = if connection.get_database_backend() == migration::sea_orm::DbBackend::Postgres {
            sql.replace('?', "$1")
        } else {
            sql.to_owned()
        };
        connection
            .query_one_raw(Statement::from_sql_and_values(
                connection.get_database_backend(),
                sql,
                [provider_id.into()],
            ))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no SMS-log entry for {provider_id}"))
    }

    /// The entry's status, and whether delivered_at and failed_at are set.
    pub async fn entry(&self, provider_id: &str) -> (String, bool, bool) {
        let row = self
            .query(
                "SELECT status, delivered_at IS NOT NULL AS delivered, failed_at IS NOT NULL AS failed FROM sms_log WHERE provider_message_id = ?",
                provider_id,
            )
            .await;
        (
            row.try_get("", "status").unwrap(),
            row.try_get("", "delivered").unwrap(),
            row.try_get("", "failed").unwrap(),
        )
    }

    pub async fn error_code(&self, provider_id: &str) -> Option<String> {
        self.query(
            "SELECT error_code FROM sms_log WHERE provider_message_id = ?",
            provider_id,
        )
        .await
        .try_get("", "error_code")
        .unwrap()
    }
}

#[tokio::test]
async fn a_text_whose_processing_failed_is_processed_once_when_twilio_retries() {
    let app = spawn_twilio_app(Backend::Postgres).await;
    let user = app
        .verified_texting_user("fern@example.com", "+15551230077")
        .await;
    let fern = app.add_plant(&user, "Boston Fern", "Fern").await;
    // Storing the conversation fails until the constraint goes.
    app.execute_sql(
        "ALTER TABLE messages ADD CONSTRAINT no_messages CHECK (false) NOT VALID",
        vec![],
    )
    .await;

    let failed = app
        .text("SM0077", "+15551230077", "Fern: are you thirsty?")
        .await;

    assert_eq!(failed.status, 500, "{}", failed.body);
    app.execute_sql("ALTER TABLE messages DROP CONSTRAINT no_messages", vec![])
        .await;
    let retried = twiml_message(
        &app.text("SM0077", "+15551230077", "Fern: are you thirsty?")
            .await,
    );
    assert!(retried.starts_with("Fern: "), "{retried}");
    let again = twiml_message(
        &app.text("SM0077", "+15551230077", "Fern: are you thirsty?")
            .await,
    );
    assert_eq!(again, retried, "a later repeat gets the stored answer");
    let history = app
        .get_as(
            &user.access_token,
            &format!("/api/v2/plants/{}/messages", fern["id"].as_str().unwrap()),
        )
        .await
        .json();
    assert_eq!(
        history["items"].as_array().unwrap().len(),
        2,
        "processed once"
    );
}

on_both_backends! {
    async fn the_webhook_limit_counts_per_sender_not_per_address(backend: Backend) {
        let app = spawn_twilio_app_with(backend, "http://127.0.0.1:9", &[("RATE_LIMIT_ENABLED", "true")]).await;
        for n in 0..100 {
            let answer = app.text(&format!("SMA{n:04}"), "+15551230101", "hello").await;
            assert_eq!(answer.status, 200, "text {n}: {}", answer.body);
        }

        let over = app.text("SMA0100", "+15551230101", "hello").await;
        let other_sender = app.text("SMB0000", "+15551230102", "hello").await;

        assert_eq!(over.status, 429, "{}", over.body);
        assert_eq!(over.json()["code"], "ERR_RATE_001");
        assert_eq!(other_sender.status, 200, "the same address, another number: {}", other_sender.body);
        let unsigned = app.post_webhook(INBOUND_PATH, &[("From", "+15551230101")], None).await;
        assert_eq!(unsigned.status, 403, "the signature is checked before the limit");
    }
}

on_both_backends! {
    async fn texts_from_a_number_its_account_has_not_verified_reach_no_plant(backend: Backend) {
        let app = spawn_twilio_app(backend).await;
        let squatter = app.texting_user("squatter@example.com", "+15551230088").await;
        app.add_plant(&squatter, "Boston Fern", "Fern").await;

        let reply = twiml_message(&app.text("SM0088", "+15551230088", "STOP").await);

        assert!(reply.contains("not linked to an account"), "{reply}");
        let me = app.get_as(&squatter.access_token, "/api/v2/me").await.json();
        assert_eq!(me["sms_opt_in"], true, "the real holder's STOP is not the squatter's to act on");
    }
}
