//! SMS safety (SPEC §6.1) through the real app: a number gets texts only once a code sent to it
//! came back, codes are few and short-lived, a changed number must be verified again, texts are
//! capped per day, and a reminder moved into the past is due now, not in a loop.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use wiremock::MockServer;

use crate::{
    helpers::{Backend, TestApp, TestResponse, TestUser, on_both_backends, spawn_app},
    sms::{SmsChannel, spawn_twilio_app_with},
    sms_workers::accepting_twilio,
};

const VERIFY: &str = "/api/v2/me/phone/verification";
const CONFIRM: &str = "/api/v2/me/phone/verification/confirm";

async fn app_texting_through(backend: Backend, twilio: &MockServer) -> TestApp {
    spawn_twilio_app_with(backend, &twilio.uri(), &[]).await
}

/// The code in the newest text Twilio's mock received.
async fn last_code(twilio: &MockServer) -> String {
    let requests = twilio.received_requests().await.unwrap();
    let body =
        String::from_utf8_lossy(&requests.last().expect("a text was sent").body).into_owned();
    let text = body
        .split('&')
        .find_map(|pair| pair.strip_prefix("Body="))
        .expect("a Body field")
        .replace('+', " ")
        .replace("%3A", ":");
    let code = text
        .strip_prefix("Plant Texts code: ")
        .unwrap_or_else(|| panic!("not a code text: {text}"));
    assert_eq!(code.len(), 6, "{text}");
    code.to_owned()
}

impl TestApp {
    async fn with_phone(&self, email: &str, phone: &str) -> TestUser {
        let user = self.signed_up("demo", email).await;
        let response = self
            .patch_json_as(
                &user.access_token,
                "/api/v2/me",
                &json!({"phone": phone, "sms_opt_in": true}),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        assert_eq!(
            response.json()["phone_verified"],
            false,
            "a new number is unverified"
        );
        user
    }

    async fn request_code(&self, user: &TestUser) -> TestResponse {
        self.post_json_as(&user.access_token, VERIFY, &json!({}))
            .await
    }

    async fn confirm_code(&self, user: &TestUser, code: &str) -> TestResponse {
        self.post_json_as(&user.access_token, CONFIRM, &json!({"code": code}))
            .await
    }
}

fn assert_invalid_code(response: &TestResponse) {
    assert_eq!(response.status, 422, "{}", response.body);
    assert_eq!(response.json()["code"], "ERR_PHONE_001");
}

/// A code that is not `code`.
fn other_than(code: &str) -> String {
    let number: u32 = code.parse().unwrap();
    format!("{:06}", (number + 1) % 1_000_000)
}

on_both_backends! {
    async fn a_code_texted_to_the_number_verifies_it(backend: Backend) {
        let twilio = accepting_twilio().await;
        let app = app_texting_through(backend, &twilio).await;
        let user = app.with_phone("ada@example.com", "+14155552671").await;

        let sent = app.request_code(&user).await;

        assert_eq!(sent.status, 202, "{}", sent.body);
        assert_eq!(sent.json()["sent_to"], "+1415***2671");
        assert_eq!(sent.json()["expires_in"], 600);
        let requests = twilio.received_requests().await.unwrap();
        assert_eq!(requests.len(), 1);
        assert!(String::from_utf8_lossy(&requests[0].body).contains("To=%2B14155552671"));
        let confirmed = app.confirm_code(&user, &last_code(&twilio).await).await;
        assert_eq!(confirmed.status, 200, "{}", confirmed.body);
        assert_eq!(confirmed.json()["phone_verified"], true);
        let me = app.get_as(&user.access_token, "/api/v2/me").await.json();
        assert_eq!(me["phone_verified"], true);
        let export = app.get_as(&user.access_token, "/api/v2/me/export").await.json();
        assert_eq!(export["user"]["phone_verified"], true);
        assert_eq!(
            export["records"]["sms_log"][0]["body"], "Plant Texts code: ******",
            "an account never reads a code back: it could verify a number it does not hold"
        );
        assert_invalid_code(&app.confirm_code(&user, &last_code(&twilio).await).await);
    }

    async fn five_wrong_codes_void_it(backend: Backend) {
        let twilio = accepting_twilio().await;
        let app = app_texting_through(backend, &twilio).await;
        let user = app.with_phone("ada@example.com", "+14155552672").await;
        assert_eq!(app.request_code(&user).await.status, 202);
        let code = last_code(&twilio).await;

        for _ in 0..5 {
            assert_invalid_code(&app.confirm_code(&user, &other_than(&code)).await);
        }

        assert_invalid_code(&app.confirm_code(&user, &code).await);
        assert_eq!(app.get_as(&user.access_token, "/api/v2/me").await.json()["phone_verified"], false);
    }

    async fn an_expired_code_is_refused(backend: Backend) {
        let twilio = accepting_twilio().await;
        let app = app_texting_through(backend, &twilio).await;
        let user = app.with_phone("ada@example.com", "+14155552673").await;
        assert_eq!(app.request_code(&user).await.status, 202);
        let code = last_code(&twilio).await;
        let past: DateTime<Utc> = Utc::now() - TimeDelta::seconds(1);
        app.execute_sql("UPDATE phone_verifications SET expires_at = ?", vec![past.into()]).await;

        assert_invalid_code(&app.confirm_code(&user, &code).await);
    }

    async fn a_fourth_code_within_the_hour_is_refused(backend: Backend) {
        let twilio = accepting_twilio().await;
        let app = app_texting_through(backend, &twilio).await;
        let user = app.with_phone("ada@example.com", "+14155552674").await;
        for _ in 0..3 {
            assert_eq!(app.request_code(&user).await.status, 202);
        }

        let fourth = app.request_code(&user).await;

        assert_eq!(fourth.status, 429, "{}", fourth.body);
        assert_eq!(fourth.json()["code"], "ERR_RATE_001");
        let retry_after: i64 = fourth.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=3600).contains(&retry_after), "{retry_after}");
        assert_eq!(twilio.received_requests().await.unwrap().len(), 3);
        let code = last_code(&twilio).await;
        assert_eq!(app.confirm_code(&user, &code).await.status, 200, "the newest code still works");
    }

    async fn an_account_without_a_number_gets_no_code(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;

        let response = app.request_code(&user).await;

        assert_eq!(response.status, 422, "{}", response.body);
        assert_eq!(response.json()["errors"][0]["field"], "phone");
        let malformed = app.confirm_code(&user, "12345").await;
        assert_eq!(malformed.status, 422);
        assert_eq!(malformed.json()["errors"][0]["field"], "code");
    }

    async fn changing_a_verified_number_makes_it_unverified(backend: Backend) {
        let twilio = accepting_twilio().await;
        let app = app_texting_through(backend, &twilio).await;
        let user = app.with_phone("ada@example.com", "+14155552675").await;
        assert_eq!(app.request_code(&user).await.status, 202);
        assert_eq!(app.confirm_code(&user, &last_code(&twilio).await).await.status, 200);

        let same = app.patch_json_as(&user.access_token, "/api/v2/me", &json!({"phone": "+14155552675"})).await;
        assert_eq!(same.json()["phone_verified"], true, "the same number is no change");
        let changed = app.patch_json_as(&user.access_token, "/api/v2/me", &json!({"phone": "+14155552676"})).await;

        assert_eq!(changed.status, 200, "{}", changed.body);
        assert_eq!(changed.json()["phone_verified"], false);
    }

    async fn no_reminder_goes_to_an_unverified_number(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.with_phone("ada@example.com", "+14155552677").await;
        app.add_plant(&user, "Snake Plant", "Sly").await;
        let worker = SmsChannel::over(&app.database, &[]).await;
        worker.clock.advance(TimeDelta::days(60));

        assert_eq!(worker.sms.reminders.send_due().await.unwrap(), 0);

        app.verify_phone_directly(&user.id).await;
        assert_eq!(worker.sms.reminders.send_due().await.unwrap(), 1, "due all along");
        assert_eq!(worker.count("SELECT COUNT(*) AS n FROM sms_log WHERE to_number = '+14155552677'").await, 1);
    }

    async fn the_twenty_first_text_of_a_day_is_not_sent(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.with_phone("ada@example.com", "+14155552678").await;
        app.verify_phone_directly(&user.id).await;
        for n in 0..21 {
            app.add_plant(&user, "Snake Plant", &format!("Plant {n:02}")).await;
        }
        let worker = SmsChannel::over(&app.database, &[]).await;
        worker.clock.advance(TimeDelta::days(60));

        worker.sms.reminders.send_due().await.unwrap();

        assert_eq!(worker.count("SELECT COUNT(*) AS n FROM sms_log WHERE status = 'demo'").await, 20);
        assert_eq!(
            worker.count("SELECT COUNT(*) AS n FROM sms_log WHERE status = 'failed' AND error_code = 'cap' AND next_retry_at IS NULL").await,
            1
        );
        worker.clock.advance(TimeDelta::hours(25));
        let later = worker.sms.outbox.send(None, domain::phone::PhoneNumber::parse("+14155552678").unwrap(), domain::sms::SmsBody::parse("hello").unwrap(), domain::sms::SmsPurpose::Message).await.unwrap();
        assert_eq!(later.as_str(), "demo", "a rolling day later the number may be texted again");
    }

    async fn a_reminder_moved_into_the_past_is_due_now(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let plant = app.add_plant(&user, "Snake Plant", "Sly").await;
        let before = Utc::now() - TimeDelta::seconds(1);

        let response = app
            .patch_json_as(
                &user.access_token,
                &format!("/api/v2/plants/{}", plant["id"].as_str().unwrap()),
                &json!({"next_reminder_at": "2020-01-01T00:00:00Z"}),
            )
            .await;

        assert_eq!(response.status, 200, "{}", response.body);
        let stored: DateTime<Utc> = response.json()["next_reminder_at"].as_str().unwrap().parse().unwrap();
        assert!(stored >= before, "{stored} is now, not 2020");
    }
}
