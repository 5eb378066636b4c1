//! The daily retention job (SPEC §6.1) on real databases, on a clock the test moves: exactly the
//! rows past their window go, SMS-log entries keep their row but lose their text, and of two
//! instances only one runs a day's job.

use chrono::TimeDelta;
use domain::{phone::PhoneNumber, sms::SmsBody};
use serde_json::json;

use crate::{
    helpers::{Backend, on_both_backends},
    sms::{SmsChannel, spawn_twilio_app},
};

on_both_backends! {
    async fn retention_removes_exactly_what_is_past_its_window_once_a_day(backend: Backend) {
        let app = spawn_twilio_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        // A family with a rotated token that ended long ago and a live one: it goes whole, later.
        assert_eq!(app.refresh(&user.refresh_token).await.status, 200);
        let long_ago = chrono::Utc::now() - TimeDelta::days(10);
        app.execute_sql(
            "UPDATE refresh_tokens SET expires_at = ? WHERE replaced_by IS NOT NULL",
            vec![long_ago.into()],
        )
        .await;
        let basil = app.catalog_id("Basil").await;
        let created = app
            .send(
                |client, url| {
                    client
                        .post(url)
                        .bearer_auth(&user.access_token)
                        .header("Idempotency-Key", "retention-1")
                        .json(&json!({"catalog_plant_id": basil, "nickname": "Basil"}))
                },
                "/api/v2/plants",
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(app.text("SMRETAIN1", "+15551239876", "hello").await.status, 200);
        let channel = SmsChannel::over(&app.database, &[]).await;
        channel
            .sms
            .outbox
            .send(None, PhoneNumber::parse("+15551239876").unwrap(), SmsBody::parse("kept 90 days").unwrap(), domain::sms::SmsPurpose::Message)
            .await
            .unwrap();
        let counts = || async {
            (
                channel.count("SELECT COUNT(*) AS n FROM idempotency_keys").await,
                channel.count("SELECT COUNT(*) AS n FROM refresh_tokens").await,
                channel.count("SELECT COUNT(*) AS n FROM inbound_sms").await,
                channel.count("SELECT COUNT(*) AS n FROM sms_log WHERE body <> ''").await,
                channel.count("SELECT COUNT(*) AS n FROM sms_log").await,
            )
        };
        assert_eq!(counts().await, (1, 2, 1, 1, 1));
        let retention = channel.sms.retention.clone();
        let other_instance = SmsChannel::on_clock(&app.database, channel.clock.clone()).await;
        let second = other_instance.sms.retention.clone();

        channel.clock.advance(TimeDelta::days(2));
        let first_run = retention.run_daily().await.unwrap().expect("the day's run");
        assert_eq!(second.run_daily().await.unwrap(), None, "one instance a day");
        assert_eq!(retention.run_daily().await.unwrap(), None, "once a day");
        assert_eq!(first_run.idempotency_keys, 1);
        assert_eq!(
            counts().await,
            (0, 2, 1, 1, 1),
            "idempotency keys after 24 h; a family stays while one of its tokens lives"
        );

        channel.clock.advance(TimeDelta::days(29));
        retention.run_daily().await.unwrap().expect("a new day");
        assert_eq!(counts().await, (0, 2, 0, 1, 1), "inbound records after 30 days");

        channel.clock.advance(TimeDelta::days(7));
        retention.run_daily().await.unwrap().expect("a new day");
        assert_eq!(counts().await, (0, 0, 0, 1, 1), "refresh tokens 7 days past their end");

        channel.clock.advance(TimeDelta::days(53));
        let last = retention.run_daily().await.unwrap().expect("a new day");
        assert_eq!(last.sms_bodies, 1);
        assert_eq!(counts().await, (0, 0, 0, 0, 1), "SMS texts after 90 days, the entry kept");
    }
}
