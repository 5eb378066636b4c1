//! The SMS workers against real databases: reminders go out exactly once with two workers at
//! once, and failed texts are retried on schedule, five times at most.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use domain::{phone::PhoneNumber, sms::SmsBody};
use migration::sea_orm::{ConnectionTrait as _, Statement};
use serde_json::json;
use uuid::Uuid;
use wiremock::{Mock, MockServer, Request, ResponseTemplate, matchers::method};

use crate::{
    helpers::{Backend, TestApp, on_both_backends, spawn_app},
    sms::{SmsChannel, twilio_overrides},
};

/// A mock of Twilio's Messages API that accepts every message with a fresh SID.
pub(crate) async fn accepting_twilio() -> MockServer {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|_: &Request| {
            ResponseTemplate::new(201).set_body_json(
                json!({"sid": format!("SM{}", Uuid::now_v7().simple()), "status": "queued"}),
            )
        })
        .mount(&twilio)
        .await;
    twilio
}

/// A form field of a request Twilio's mock received, decoded.
pub(crate) fn form_field(request: &Request, name: &str) -> String {
    // The request's own URL decodes the form as a query string.
    let mut form = request.url.clone();
    form.set_query(Some(&String::from_utf8_lossy(&request.body)));
    form.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// The SMS channel of one more server instance on `app`'s database, sending to `twilio`.
pub(crate) async fn instance(app: &TestApp, twilio: &MockServer) -> SmsChannel {
    instance_with(app, twilio, &[]).await
}

pub(crate) async fn instance_with(
    app: &TestApp,
    twilio: &MockServer,
    extra: &[(&'static str, &str)],
) -> SmsChannel {
    let mut overrides = twilio_overrides(&twilio.uri());
    overrides.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let overrides: Vec<(&str, &str)> = overrides.iter().map(|(k, v)| (*k, v.as_str())).collect();
    SmsChannel::over(&app.database, &overrides).await
}

/// Registers `users` owners with phones and consent, each with `plants_each` plants named
/// `P-<user>-<plant>`.
pub(crate) async fn owners_with_plants(app: &TestApp, users: usize, plants_each: usize) {
    for u in 0..users {
        let user = app
            .signed_up("demo", &format!("owner{u}@example.com"))
            .await;
        let response = app
            .patch_json_as(
                &user.access_token,
                "/api/v2/me",
                &json!({"phone": format!("+1555100{u:04}"), "sms_opt_in": true}),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        app.verify_phone_directly(&user.id).await;
        for p in 0..plants_each {
            app.add_plant(&user, "Snake Plant", &format!("P-{u:02}-{p:02}"))
                .await;
        }
    }
}

#[tokio::test]
async fn two_reminder_workers_over_200_due_plants_send_exactly_200_reminders() {
    let app = spawn_app(Backend::Postgres).await;
    owners_with_plants(&app, 20, 10).await;
    let twilio = accepting_twilio().await;
    let first = instance(&app, &twilio).await;
    let second = instance(&app, &twilio).await;
    for worker in [&first, &second] {
        worker.clock.advance(TimeDelta::days(60));
    }

    let (sent_by_first, sent_by_second) = tokio::join!(
        first.sms.reminders.send_due(),
        second.sms.reminders.send_due()
    );

    let (sent_by_first, sent_by_second) = (sent_by_first.unwrap(), sent_by_second.unwrap());
    assert_eq!(sent_by_first + sent_by_second, 200);
    let requests = twilio.received_requests().await.unwrap();
    assert_eq!(requests.len(), 200);
    let mut per_plant: BTreeMap<String, usize> = BTreeMap::new();
    for request in &requests {
        let body = form_field(request, "Body");
        let nickname = body.split(':').next().unwrap().to_owned();
        *per_plant.entry(nickname).or_default() += 1;
    }
    assert_eq!(per_plant.len(), 200, "every plant reminded");
    assert!(per_plant.values().all(|&count| count == 1), "none twice");
    // Rescheduled: nothing is due any more.
    assert_eq!(first.sms.reminders.send_due().await.unwrap(), 0);
    assert_eq!(
        first
            .count("SELECT COUNT(*) AS n FROM sms_log WHERE status = 'queued'")
            .await,
        200
    );
}

on_both_backends! {
    async fn in_demo_mode_a_text_is_logged_as_demo_and_not_sent(backend: Backend) {
        let app = spawn_app(backend).await;
        let demo = SmsChannel::over(&app.database, &[]).await;

        let status = demo.sms.outbox.send(None, PhoneNumber::parse("+15551236666").unwrap(), SmsBody::parse("hi").unwrap(), domain::sms::SmsPurpose::Message).await.unwrap();

        assert_eq!(status.as_str(), "demo");
        assert_eq!(demo.count("SELECT COUNT(*) AS n FROM sms_log WHERE status = 'demo' AND from_number = 'demo' AND to_number = '+15551236666'").await, 1);
    }

    async fn reminders_skip_owners_without_consent_or_phone_and_pause_with_the_flag(backend: Backend) {
        let app = spawn_app(backend).await;
        owners_with_plants(&app, 1, 1).await;
        let silent = app.signed_up("demo", "silent@example.com").await;
        app.add_plant(&silent, "Snake Plant", "Quiet").await;
        let twilio = accepting_twilio().await;
        let worker = instance(&app, &twilio).await;
        worker.clock.advance(TimeDelta::days(60));

        assert_eq!(worker.sms.reminders.send_due().await.unwrap(), 1);

        let requests = twilio.received_requests().await.unwrap();
        assert_eq!(requests.len(), 1);
        assert_eq!(form_field(&requests[0], "To"), "+15551000000");
        assert!(form_field(&requests[0], "Body").starts_with("P-00-00: "));
        let callback = form_field(&requests[0], "StatusCallback").replace("%2F", "/").replace("%3F", "?").replace("%3D", "=");
        let entry = callback.strip_prefix("https://plants.example.test/api/v2/webhooks/twilio/status?sms_id=").expect("the callback names the entry");
        assert!(Uuid::parse_str(entry).is_ok(), "{entry}");
        assert_eq!(worker.count("SELECT COUNT(*) AS n FROM sms_log WHERE purpose = 'reminder'").await, 1);

        let paused = instance_with(&app, &twilio, &[("FEATURE_SMS_REMINDERS_ENABLED", "false")]).await;
        paused.clock.advance(TimeDelta::days(120));
        assert_eq!(paused.sms.reminders.send_due().await.unwrap(), 0);
        assert_eq!(twilio.received_requests().await.unwrap().len(), 1);
        worker.clock.advance(TimeDelta::days(60));
        assert_eq!(worker.sms.reminders.send_due().await.unwrap(), 1, "due all along");
    }

    async fn reminders_pause_and_resume_when_the_flag_is_switched_through_the_admin_api(backend: Backend) {
        let app = spawn_app(backend).await;
        owners_with_plants(&app, 1, 1).await;
        let twilio = accepting_twilio().await;
        let worker = instance(&app, &twilio).await;
        worker.clock.advance(TimeDelta::days(60));

        assert_eq!(app.set_feature_flags(&json!({"sms_reminders": false})).await.status, 200);
        // The worker's instance applies the stored flags at its next refresh.
        worker.flags.reload().await.unwrap();
        assert_eq!(worker.sms.reminders.send_due().await.unwrap(), 0);
        assert!(twilio.received_requests().await.unwrap().is_empty());

        assert_eq!(app.set_feature_flags(&json!({"sms_reminders": true})).await.status, 200);
        worker.flags.reload().await.unwrap();
        assert_eq!(worker.sms.reminders.send_due().await.unwrap(), 1, "due all along");
    }

    async fn the_retry_worker_gives_up_after_five_retries(backend: Backend) {
        let app = spawn_app(backend).await;
        let twilio = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&twilio)
            .await;
        let worker = instance(&app, &twilio).await;
        let to = PhoneNumber::parse("+15551239999").unwrap();

        let status = worker.sms.outbox.send(None, to, SmsBody::parse("Water me").unwrap(), domain::sms::SmsPurpose::Message).await.unwrap();
        assert_eq!(status.as_str(), "failed");

        assert_eq!(worker.sms.outbox.retry_due().await.unwrap(), 0, "not due yet");
        for retry in 1..=5 {
            worker.clock.advance(TimeDelta::minutes(1 << (retry - 1)));
            assert_eq!(worker.sms.outbox.retry_due().await.unwrap(), 1, "retry {retry}");
            assert_eq!(
                worker.count("SELECT retry_count AS n FROM sms_log").await,
                retry
            );
        }
        worker.clock.advance(TimeDelta::days(1));
        assert_eq!(worker.sms.outbox.retry_due().await.unwrap(), 0, "given up");

        assert_eq!(twilio.received_requests().await.unwrap().len(), 6, "one send and five retries");
        assert_eq!(worker.count("SELECT COUNT(*) AS n FROM sms_log WHERE status = 'failed' AND next_retry_at IS NULL AND last_retry_at IS NOT NULL").await, 1);
    }

    async fn a_refused_message_is_not_retried(backend: Backend) {
        let app = spawn_app(backend).await;
        let twilio = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400})))
            .mount(&twilio)
            .await;
        let worker = instance(&app, &twilio).await;

        worker.sms.outbox.send(None, PhoneNumber::parse("+15551238888").unwrap(), SmsBody::parse("hi").unwrap(), domain::sms::SmsPurpose::Message).await.unwrap();
        worker.clock.advance(TimeDelta::days(1));

        assert_eq!(worker.sms.outbox.retry_due().await.unwrap(), 0);
        assert_eq!(worker.count("SELECT COUNT(*) AS n FROM sms_log WHERE status = 'failed' AND error_code = '21211'").await, 1);
    }

    async fn a_retry_that_succeeds_records_the_provider_id(backend: Backend) {
        let app = spawn_app(backend).await;
        let twilio = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(1)
            .mount(&twilio)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"sid": "SM_SECOND_TRY", "status": "queued"})))
            .mount(&twilio)
            .await;
        let worker = instance(&app, &twilio).await;

        worker.sms.outbox.send(None, PhoneNumber::parse("+15551237777").unwrap(), SmsBody::parse("hi").unwrap(), domain::sms::SmsPurpose::Message).await.unwrap();
        worker.clock.advance(TimeDelta::minutes(1));
        assert_eq!(worker.sms.outbox.retry_due().await.unwrap(), 1);

        assert_eq!(worker.count("SELECT COUNT(*) AS n FROM sms_log WHERE status = 'queued' AND provider_message_id = 'SM_SECOND_TRY' AND retry_count = 1 AND sent_at IS NOT NULL").await, 1);
    }
}

impl SmsChannel {
    /// The integer column `n` of the one row `sql` selects.
    pub(crate) async fn count(&self, sql: &str) -> i64 {
        let connection = self.database.connection();
        let row = connection
            .query_one_raw(Statement::from_string(
                connection.get_database_backend(),
                sql,
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n")
            .or_else(|_| row.try_get::<i32>("", "n").map(i64::from))
            .unwrap()
    }
}
