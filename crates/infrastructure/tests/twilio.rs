//! The Twilio adapter against a local mock of the Messages API, and demo mode.
#![expect(clippy::unwrap_used, reason = "test helpers")]

use std::time::Duration;

use application::sms::{OutgoingSms, SendSmsError, SmsSender};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use domain::{
    phone::PhoneNumber,
    secret::Secret,
    sms::{SmsBody, SmsStatus},
};
use plant_texts_infrastructure::twilio::{DemoSmsSender, TwilioSettings, TwilioSmsSender};
use serde_json::json;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{header, method, path, query_param},
};

const SID: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "twilio-auth-token-for-tests";
const MESSAGES: &str = "/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json";

fn sender(server: &MockServer) -> TwilioSmsSender {
    sender_at(&server.uri())
}

fn sender_at(base_url: &str) -> TwilioSmsSender {
    TwilioSmsSender::new(TwilioSettings {
        base_url: base_url.to_owned(),
        account_sid: SID.to_owned(),
        auth_token: Secret::new(TOKEN),
        from: PhoneNumber::parse("+15005550006").unwrap(),
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

fn sms() -> OutgoingSms {
    OutgoingSms {
        to: PhoneNumber::parse("+14155552671").unwrap(),
        body: SmsBody::parse("Water me, please & thank you").unwrap(),
        status_callback: Some("https://plants.example/api/v2/webhooks/twilio/status".to_owned()),
    }
}

#[tokio::test]
async fn a_message_is_posted_as_a_form_with_basic_auth_and_its_sid_returned() {
    let server = MockServer::start().await;
    let basic = format!("Basic {}", STANDARD.encode(format!("{SID}:{TOKEN}")));
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(header("authorization", basic.as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sid": "SM0123456789abcdef0123456789abcdef",
            "status": "queued",
        })))
        .expect(1)
        .mount(&server)
        .await;

    let sent = sender(&server).send(&sms()).await.unwrap();

    assert_eq!(
        sent.provider_message_id.as_deref(),
        Some("SM0123456789abcdef0123456789abcdef")
    );
    assert_eq!(sent.status, SmsStatus::Queued);
    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        String::from_utf8(request.body.clone()).unwrap(),
        "To=%2B14155552671&From=%2B15005550006&Body=Water+me%2C+please+%26+thank+you\
         &ValidityPeriod=1200&StatusCallback=https%3A%2F%2Fplants.example%2Fapi%2Fv2%2Fwebhooks%2Ftwilio%2Fstatus"
    );
}

#[tokio::test]
async fn a_twilio_error_is_mapped_with_its_code_and_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": 21211,
            "message": "The 'To' number +14155552671 is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400,
        })))
        .mount(&server)
        .await;

    let error = sender(&server).send(&sms()).await.unwrap_err();

    match error {
        SendSmsError::Rejected { code, message } => {
            assert_eq!(code.as_deref(), Some("21211"));
            assert!(message.contains("not a valid phone number"));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn server_errors_and_throttling_are_worth_a_retry() {
    for status in [429, 500, 503] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;

        let error = sender(&server).send(&sms()).await.unwrap_err();

        assert!(
            matches!(error, SendSmsError::Unavailable(_)),
            "{status}: {error:?}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_twilio_is_unavailable() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let sender = sender_at(&format!("http://{address}"));

    let error = sender.send(&sms()).await.unwrap_err();

    assert!(matches!(error, SendSmsError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn demo_mode_sends_nothing_and_reports_demo() {
    let sent = DemoSmsSender.send(&sms()).await.unwrap();
    assert_eq!(sent.status, SmsStatus::Demo);
    assert_eq!(sent.provider_message_id, None);
}

#[test]
fn the_auth_token_never_shows_in_debug_output() {
    let sender = sender_at("http://127.0.0.1:9");
    assert!(!format!("{sender:?}").contains(TOKEN));
}

#[tokio::test]
async fn a_success_whose_answer_cannot_be_read_is_unknown_not_failed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(201).set_body_string("<html>proxy page</html>"))
        .mount(&server)
        .await;

    let error = sender(&server).send(&sms()).await.unwrap_err();

    assert!(matches!(error, SendSmsError::Unknown(_)), "{error:?}");
}

#[tokio::test]
async fn a_lookup_asks_for_the_number_and_day_and_keeps_only_the_same_text() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(MESSAGES))
        .and(query_param("To", "+14155552671"))
        .and(query_param("From", "+15005550006"))
        .and(query_param("DateSent>", "2026-11-30"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"messages": [
            {"sid": "SM2", "to": "+14155552671", "body": "Something else", "status": "sent"},
            {"sid": "SM1", "to": "+14155552671", "body": "Water me, please & thank you", "status": "delivered"},
        ]})))
        .mount(&server)
        .await;
    let attempted_at = "2026-11-30T23:59:00Z".parse().unwrap();

    let found = sender(&server)
        .find_sent(&sms().to, &sms().body, attempted_at)
        .await
        .unwrap();

    assert_eq!(found.len(), 1);
    assert_eq!(found[0].provider_message_id.as_deref(), Some("SM1"));
    assert_eq!(found[0].status, SmsStatus::Delivered);
}
