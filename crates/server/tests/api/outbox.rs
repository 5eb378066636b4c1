//! The outbox across crashes, on PostgreSQL (SPEC §6.1): a reminder claimed by a worker that
//! dies is still sent, exactly once, after a restart; two workers aborted at random over 500 due
//! plants send exactly 500 texts; a send whose answer is lost is looked up, never resent.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use application::{
    sms::{
        SmsSender,
        ports::{Lease, ReminderQueue as _, SmsLog as _},
    },
    system::Clock as _,
};
use chrono::{TimeDelta, Utc};
use domain::sms::outbox::{NOT_FOUND_AFTER, SEND_LEASE};
use infrastructure::{
    persistence::sms::{SeaOrmReminderQueue, SeaOrmSmsLog},
    twilio::{TwilioSettings, TwilioSmsSender},
};
use serde_json::json;
use tokio::sync::Notify;
use uuid::Uuid;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::path_regex};

use crate::{
    helpers::{Backend, TestApp, on_both_backends, spawn_app},
    sms::{ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, SmsChannel, twilio_overrides},
    sms_workers::{form_field, instance, owners_with_plants},
};

/// A message Twilio's mock took.
#[derive(Debug, Clone)]
struct Taken {
    sid: String,
    to: String,
    body: String,
}

/// A mock of Twilio that keeps every message it takes (as soon as the request arrives, before it
/// answers) and lists them on `GET Messages.json?To=...`, as the real one does.
#[derive(Clone, Default)]
struct RecordingTwilio {
    taken: Arc<Mutex<Vec<Taken>>>,
    arrived: Arc<Notify>,
    count: Arc<AtomicUsize>,
    answer_after: Duration,
    /// Raised when the first message arrives, before it is answered.
    stop_on_arrival: Option<application::system::StopSignal>,
}

impl Respond for RecordingTwilio {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if request.method.as_str() == "GET" {
            let to = request
                .url
                .query_pairs()
                .find(|(key, _)| key == "To")
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default();
            let messages: Vec<_> = self
                .taken
                .lock()
                .unwrap()
                .iter()
                .rev()
                .filter(|message| message.to == to)
                .map(|message| json!({"sid": message.sid, "to": message.to, "body": message.body, "status": "sent"}))
                .collect();
            return ResponseTemplate::new(200).set_body_json(json!({ "messages": messages }));
        }
        let sid = format!("SM{}", Uuid::now_v7().simple());
        self.taken.lock().unwrap().push(Taken {
            sid: sid.clone(),
            to: form_field(request, "To"),
            body: form_field(request, "Body"),
        });
        self.count.fetch_add(1, Ordering::SeqCst);
        if let Some(stop) = &self.stop_on_arrival {
            stop.raise();
        }
        self.arrived.notify_waiters();
        ResponseTemplate::new(201)
            .set_body_json(json!({"sid": sid, "status": "queued"}))
            .set_delay(self.answer_after)
    }
}

impl RecordingTwilio {
    async fn start(answer_after: Duration) -> (Self, MockServer) {
        Self::start_with(Self {
            answer_after,
            ..Self::default()
        })
        .await
    }

    async fn start_with(twilio: Self) -> (Self, MockServer) {
        let server = MockServer::start().await;
        twilio.mount(&server).await;
        (twilio, server)
    }

    async fn mount(&self, server: &MockServer) {
        Mock::given(path_regex("/Messages.json$"))
            .respond_with(self.clone())
            .mount(server)
            .await;
    }

    fn sent(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits until at least `count` messages have arrived.
    async fn until_sent(&self, count: usize) {
        loop {
            let arrived = self.arrived.notified();
            if self.sent() >= count {
                return;
            }
            arrived.await;
        }
    }

    /// How many messages each body was sent in.
    fn per_body(&self) -> BTreeMap<String, usize> {
        let mut per_body = BTreeMap::new();
        for message in self.taken.lock().unwrap().iter() {
            *per_body.entry(message.body.clone()).or_default() += 1;
        }
        per_body
    }
}

/// One more server instance on `app`'s database whose clock reads `ahead` past the real time.
async fn restarted(app: &TestApp, twilio: &MockServer, ahead: TimeDelta) -> SmsChannel {
    let channel = instance(app, twilio).await;
    channel.clock.advance(ahead);
    channel
}

async fn count(channel: &SmsChannel, condition: &str) -> i64 {
    channel
        .count(&format!(
            "SELECT COUNT(*) AS n FROM sms_log WHERE {condition}"
        ))
        .await
}

#[tokio::test]
async fn a_reminder_claimed_by_a_worker_that_died_before_sending_goes_out_once_after_restart() {
    let app = spawn_app(Backend::Postgres).await;
    owners_with_plants(&app, 1, 2).await;
    let (twilio, server) = RecordingTwilio::start(Duration::ZERO).await;
    let due = TimeDelta::days(60);

    // The dead worker claimed both reminders and leased one of them, then died.
    let dying = restarted(&app, &server, due).await;
    let claimed = SeaOrmReminderQueue::new(dying.database.clone())
        .claim_due(Utc::now() + due, 10, OUR_NUMBER)
        .await
        .unwrap();
    assert_eq!(claimed, 2);
    let leased = SeaOrmSmsLog::new(dying.database.clone())
        .lease_pending(
            Utc::now() + due,
            Lease {
                token: Uuid::now_v7(),
                until: Utc::now() + due + SEND_LEASE,
            },
            1,
        )
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    drop(dying);

    // After the restart the unheld reminder goes at once, the held one once its lease ran out.
    let restart = restarted(&app, &server, due).await;
    assert_eq!(restart.sms.reminders.send_due().await.unwrap(), 1);
    assert_eq!(twilio.sent(), 1);
    restart.clock.advance(SEND_LEASE + TimeDelta::seconds(1));
    assert_eq!(restart.sms.reminders.send_due().await.unwrap(), 1);
    assert_eq!(restart.sms.reminders.send_due().await.unwrap(), 0);

    let per_body = twilio.per_body();
    assert_eq!(per_body.len(), 2, "{per_body:?}");
    assert!(per_body.values().all(|&sent| sent == 1), "{per_body:?}");
    assert_eq!(
        count(&restart, "status = 'queued' AND purpose = 'reminder'").await,
        2
    );
}

#[tokio::test]
async fn a_worker_aborted_while_the_provider_answers_leaves_a_text_that_is_looked_up_not_resent() {
    let app = spawn_app(Backend::Postgres).await;
    owners_with_plants(&app, 1, 1).await;
    let (twilio, server) = RecordingTwilio::start(Duration::from_secs(30)).await;
    let due = TimeDelta::days(60);

    let dying = restarted(&app, &server, due).await;
    let worker = tokio::spawn(async move { dying.sms.reminders.send_due().await });
    twilio.until_sent(1).await;
    worker.abort();
    assert!(worker.await.unwrap_err().is_cancelled());
    assert_eq!(
        count(
            &instance(&app, &server).await,
            "status = 'pending' AND attempted_at IS NOT NULL"
        )
        .await,
        1
    );

    let restart = restarted(&app, &server, due + SEND_LEASE + TimeDelta::minutes(1)).await;
    restart.sms.reminders.send_due().await.unwrap();
    assert_eq!(
        count(&restart, "status = 'unknown'").await,
        1,
        "taken over as unknown, not resent"
    );
    assert_eq!(restart.sms.outbox.settle_unknown().await.unwrap(), 1);

    assert_eq!(twilio.sent(), 1);
    assert_eq!(
        count(
            &restart,
            "status = 'sent' AND provider_message_id IS NOT NULL"
        )
        .await,
        1
    );
    restart.clock.advance(NOT_FOUND_AFTER * 2);
    restart.sms.outbox.retry_due().await.unwrap();
    restart.sms.outbox.settle_unknown().await.unwrap();
    assert_eq!(twilio.sent(), 1, "never sent again");
}

#[tokio::test]
async fn a_provider_that_answers_after_the_client_timeout_yields_one_send_settled_sent_by_the_lookup()
 {
    let app = spawn_app(Backend::Postgres).await;
    owners_with_plants(&app, 1, 1).await;
    let (twilio, server) = RecordingTwilio::start(Duration::from_secs(2)).await;
    let worker = impatient_worker(&app, &server.uri()).await;
    worker.clock.advance(TimeDelta::days(60));

    worker.sms.reminders.send_due().await.unwrap();
    assert_eq!(count(&worker, "status = 'unknown'").await, 1);
    // Neither the outbox nor the retry worker sends it again; the lookup waits a minute.
    worker.sms.outbox.retry_due().await.unwrap();
    assert_eq!(worker.sms.outbox.settle_unknown().await.unwrap(), 0);
    worker.clock.advance(TimeDelta::minutes(2));
    assert_eq!(worker.sms.outbox.settle_unknown().await.unwrap(), 1);

    assert_eq!(twilio.sent(), 1);
    let sid = twilio.taken.lock().unwrap()[0].sid.clone();
    assert_eq!(worker.entry(&sid).await.0, "sent");
}

#[tokio::test]
async fn a_lookup_that_finds_nothing_for_long_enough_sends_the_text_again() {
    let app = spawn_app(Backend::Postgres).await;
    owners_with_plants(&app, 1, 1).await;
    let (twilio, server) = RecordingTwilio::start(Duration::ZERO).await;
    let worker = restarted(&app, &server, TimeDelta::days(60)).await;
    // The worker wrote the text, noted its attempt and died before the request left.
    let claimed = SeaOrmReminderQueue::new(worker.database.clone())
        .claim_due(worker.clock.now(), 10, OUR_NUMBER)
        .await
        .unwrap();
    assert_eq!(claimed, 1);
    let log = SeaOrmSmsLog::new(worker.database.clone());
    let lease = Lease {
        token: Uuid::now_v7(),
        until: worker.clock.now() + SEND_LEASE,
    };
    let held = log
        .lease_pending(worker.clock.now(), lease, 1)
        .await
        .unwrap();
    let text = domain::sms::SmsBody::parse("P-00-00: water me").unwrap();
    assert!(log.write_body(held[0].id, lease, &text).await.unwrap());
    assert!(
        log.mark_attempt(held[0].id, lease, worker.clock.now())
            .await
            .unwrap()
    );

    worker.clock.advance(SEND_LEASE + TimeDelta::minutes(2));
    worker.sms.outbox.send_pending().await.unwrap();
    assert_eq!(
        worker.sms.outbox.settle_unknown().await.unwrap(),
        0,
        "not found yet: wait"
    );
    worker.clock.advance(NOT_FOUND_AFTER);
    assert_eq!(worker.sms.outbox.settle_unknown().await.unwrap(), 1);
    assert_eq!(twilio.sent(), 0);
    worker.clock.advance(TimeDelta::hours(1));
    worker.sms.outbox.retry_due().await.unwrap();

    assert_eq!(twilio.sent(), 1);
    assert_eq!(
        twilio.per_body().keys().collect::<Vec<_>>(),
        ["P-00-00: water me"],
        "the same words"
    );
    assert_eq!(
        count(&worker, "status = 'queued' AND retry_count = 1").await,
        1
    );
}

#[tokio::test]
async fn two_workers_aborted_at_random_over_500_due_plants_send_exactly_500_texts() {
    let app = spawn_app(Backend::Postgres).await;
    owners_with_plants(&app, 25, 20).await;
    let (twilio, server) = RecordingTwilio::start(Duration::from_millis(3)).await;
    let caps = [("SMS_DAILY_LIMIT_PER_USER", "100")];
    let mut ahead = TimeDelta::days(60);
    let mut seed = 0x5eed_u64;
    let mut random = move |below: usize| {
        // xorshift: reproducible, no extra dependency.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % u64::try_from(below).unwrap()).unwrap()
    };

    let mut rounds = 0;
    loop {
        let first = crate::sms_workers::instance_with(&app, &server, &caps).await;
        let second = crate::sms_workers::instance_with(&app, &server, &caps).await;
        for worker in [&first, &second] {
            worker.clock.advance(ahead);
        }
        let left = count(&first, "status IN ('pending', 'unknown', 'failed')").await;
        let claimed = count(&first, "purpose = 'reminder'").await;
        if claimed == 500 && left == 0 {
            break;
        }
        rounds += 1;
        assert!(
            rounds < 60,
            "no progress: {left} rows left after {rounds} rounds"
        );
        let work = |worker: SmsChannel| async move {
            worker
                .sms
                .outbox
                .settle_unknown()
                .await
                .map_err(|error| error.to_string())?;
            worker
                .sms
                .outbox
                .retry_due()
                .await
                .map_err(|error| error.to_string())?;
            worker
                .sms
                .reminders
                .send_due()
                .await
                .map_err(|error| error.to_string())
        };
        let tasks = [tokio::spawn(work(first)), tokio::spawn(work(second))];
        let aborts: Vec<_> = tasks
            .iter()
            .map(tokio::task::JoinHandle::abort_handle)
            .collect();
        let joined = async {
            for task in tasks {
                if let Ok(outcome) = task.await {
                    outcome.unwrap();
                }
            }
        };
        tokio::pin!(joined);
        let mut finished = false;
        if rounds <= 8 {
            // Kill a worker (or both) the moment some message reaches Twilio, unless both are
            // done before.
            let target = twilio.sent() + 1 + random(40);
            tokio::select! {
                () = twilio.until_sent(target) => match random(3) {
                    0 => aborts[0].abort(),
                    1 => aborts[1].abort(),
                    _ => aborts.iter().for_each(tokio::task::AbortHandle::abort),
                },
                () = &mut joined => finished = true,
            }
        }
        if !finished {
            joined.await;
        }
        // Past every lease and every lookup window, and past the first retries' backoff.
        ahead += SEND_LEASE + NOT_FOUND_AFTER + TimeDelta::minutes(5);
    }

    let per_body = twilio.per_body();
    assert_eq!(twilio.sent(), 500);
    assert_eq!(per_body.len(), 500, "every plant reminded");
    assert!(per_body.values().all(|&sent| sent == 1), "none twice");
}

/// The worker of `twilio_api` whose sends time out after 200 ms.
async fn impatient_worker(app: &TestApp, twilio_api: &str) -> SmsChannel {
    let impatient: Arc<dyn SmsSender> = Arc::new(
        TwilioSmsSender::new(TwilioSettings {
            base_url: twilio_api.to_owned(),
            account_sid: ACCOUNT_SID.to_owned(),
            auth_token: domain::secret::Secret::new(AUTH_TOKEN),
            from: domain::phone::PhoneNumber::parse(OUR_NUMBER).unwrap(),
            timeout: Duration::from_millis(200),
        })
        .unwrap(),
    );
    let overrides = twilio_overrides(twilio_api);
    let overrides: Vec<(&str, &str)> = overrides.iter().map(|(k, v)| (*k, v.as_str())).collect();
    SmsChannel::over_sending_with(&app.database, &overrides, Some(impatient)).await
}

on_both_backends! {
    async fn a_claimed_reminder_is_not_sent_when_its_owner_opted_out_or_changed_number_before_the_send(backend: Backend) {
        let app = spawn_app(backend).await;
        owners_with_plants(&app, 2, 1).await;
        let (twilio, server) = RecordingTwilio::start(Duration::ZERO).await;
        let worker = restarted(&app, &server, TimeDelta::days(60)).await;
        let claimed = SeaOrmReminderQueue::new(worker.database.clone())
            .claim_due(worker.clock.now(), 10, OUR_NUMBER)
            .await
            .unwrap();
        assert_eq!(claimed, 2);

        // Between the claim and the send: one owner texts STOP, the other changes number.
        app.execute_sql("UPDATE users SET sms_opt_in = false WHERE phone = ?", vec!["+15551000000".into()]).await;
        app.execute_sql("UPDATE users SET phone = ?, phone_verified = false WHERE phone = ?", vec!["+15559990001".into(), "+15551000001".into()]).await;
        worker.sms.reminders.send_due().await.unwrap();

        assert_eq!(twilio.sent(), 0);
        assert_eq!(count(&worker, "status = 'failed' AND error_code = 'recipient' AND next_retry_at IS NULL").await, 2);
    }

    async fn a_delivery_report_naming_an_entry_settles_its_unknown_send(backend: Backend) {
        let (twilio, server) = RecordingTwilio::start(Duration::from_secs(2)).await;
        let app = crate::sms::spawn_twilio_app_with(backend, &server.uri(), &[]).await;
        owners_with_plants(&app, 1, 1).await;
        let worker = impatient_worker(&app, &server.uri()).await;
        worker.clock.advance(TimeDelta::days(60));
        worker.sms.reminders.send_due().await.unwrap();
        assert_eq!(count(&worker, "status = 'unknown'").await, 1);
        let callback = {
            let received = server.received_requests().await.unwrap();
            form_field(&received[0], "StatusCallback")
        };
        let path = callback.strip_prefix(crate::sms::PUBLIC_BASE_URL).unwrap();
        let sid = twilio.taken.lock().unwrap()[0].sid.clone();
        let report = [
            ("AccountSid", ACCOUNT_SID),
            ("MessageSid", sid.as_str()),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30007"),
            ("To", "+15551000000"),
        ];

        // The same report for another entry's address is refused by the signature.
        let forged = format!("{}0000", &path[..path.len() - 4]);
        let refused = app.post_webhook(&forged, &report, Some(&crate::sms::twilio_signature(AUTH_TOKEN, &format!("{}{path}", crate::sms::PUBLIC_BASE_URL), &report))).await;
        assert_eq!(refused.status, 403);
        assert_eq!(app.post_signed(path, &report).await.status, 204);

        assert_eq!(worker.entry(&sid).await, ("undelivered".to_owned(), false, true));
        assert_eq!(count(&worker, "error_code = '30007'").await, 1, "the report's error code kept");
        assert_eq!(twilio.sent(), 1);
    }

    async fn a_verification_code_is_not_retried_once_it_has_expired(backend: Backend) {
        let app = spawn_app(backend).await;
        let server = MockServer::start().await;
        Mock::given(path_regex("/Messages.json$")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
        let worker = instance(&app, &server).await;
        let to = domain::phone::PhoneNumber::parse("+15551234567").unwrap();
        let code = domain::sms::SmsBody::parse("Plant Texts code: 123456").unwrap();

        let status = worker.sms.outbox.send(None, to, code, domain::sms::SmsPurpose::Verification).await.unwrap();
        assert_eq!(status, domain::sms::SmsStatus::Failed);
        worker.clock.advance(TimeDelta::minutes(11));
        assert_eq!(worker.sms.outbox.retry_due().await.unwrap(), 1);

        assert_eq!(server.received_requests().await.unwrap().len(), 1, "not sent again");
        assert_eq!(count(&worker, "status = 'failed' AND error_code = 'expired'").await, 1);
    }

    async fn a_stopping_outbox_ends_after_its_current_text_and_leaves_the_rest_for_later(backend: Backend) {
        let app = spawn_app(backend).await;
        owners_with_plants(&app, 1, 3).await;
        let server = MockServer::start().await;
        let worker = restarted(&app, &server, TimeDelta::days(60)).await;
        // Shutdown is asked for while Twilio takes the first text.
        let twilio = RecordingTwilio {
            stop_on_arrival: Some(worker.sms.stop.clone()),
            ..RecordingTwilio::default()
        };
        twilio.mount(&server).await;
        worker.sms.reminders.send_due().await.unwrap();
        assert_eq!(twilio.sent(), 1, "the current text finished, no other started");
        assert_eq!(count(&worker, "status = 'queued'").await, 1);
        assert_eq!(count(&worker, "status = 'pending'").await, 2);

        let next = restarted(&app, &server, TimeDelta::days(60) + SEND_LEASE + TimeDelta::minutes(1)).await;
        next.sms.outbox.send_pending().await.unwrap();
        assert_eq!(twilio.sent(), 3);
    }
}
