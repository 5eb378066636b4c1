//! The SMS outbox (SPEC §6.1) over the fakes: every text logged before the provider is called,
//! recipients read again before sending, daily caps, retries with back-off, leases taken over,
//! unknown outcomes settled by a lookup or a delivery report, the stop signal and the metrics.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;

use chrono::TimeDelta;
use domain::{
    identity::{TenantId, UserId},
    phone::PhoneNumber,
    plants::UserPlantId,
    sms::{Recipient, SmsBody, SmsLogId, SmsPurpose, SmsStatus},
};
use plant_texts_application::{
    compose::UseCases,
    plants::Owner,
    sms::{
        OutgoingSms, SendSmsError, SentSms, SmsCaps, SmsLogError, SmsOutbox, SmsOutboxPorts,
        ports::Lease,
    },
    store::StoreError,
    system::{Clock, StopSignal},
    testing::{
        Fakes, Outage,
        sms::{
            FAKE_SENDER_NUMBER, FakeReminderTexts, FakeSmsSender, HeldSms, Lookup, SendScript,
            SmsLogCall, SmsLogRecord,
        },
        system::START,
    },
};
use uuid::Uuid;

// --- Helpers ------------------------------------------------------------------------------

/// The `n`-th test number.
fn phone(n: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+1415555{n:04}")).unwrap()
}

fn text(words: &str) -> SmsBody {
    SmsBody::parse(words).unwrap()
}

/// The `n`-th account (of its own tenant).
fn owner(n: u128) -> Owner {
    Owner {
        tenant_id: TenantId::from_uuid(Uuid::from_u128(1_000 + n)),
        user_id: UserId::from_uuid(Uuid::from_u128(n)),
    }
}

/// What an active account holding `phone` says about texting it.
fn holder(phone: &PhoneNumber, phone_verified: bool, sms_opt_in: bool) -> Recipient {
    Recipient {
        is_active: true,
        phone: Some(phone.clone()),
        phone_verified,
        sms_opt_in,
    }
}

/// The `n`-th account, verified at `phone` and opted in: it may get every kind of text.
fn reachable(fakes: &Fakes, n: u128, phone: &PhoneNumber) -> Owner {
    let owner = owner(n);
    assert!(fakes.sms_accounts.add(owner, holder(phone, true, true)));
    owner
}

/// Sends a message to `to` from nobody's account (no recipient check).
async fn send_to(use_cases: &UseCases, to: &PhoneNumber) -> SmsStatus {
    use_cases
        .outbox
        .send(None, to.clone(), text("Fern says hi"), SmsPurpose::Message)
        .await
        .unwrap()
}

/// The one entry of the log.
fn only_entry(fakes: &Fakes) -> SmsLogRecord {
    let entries = fakes.sms_log.entries();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

/// A pending entry with `body` to `to`, created at `START + seconds`, nobody holding it.
fn pending(n: u128, to: &PhoneNumber, body: Option<&str>, seconds: i64) -> SmsLogRecord {
    SmsLogRecord {
        from: FAKE_SENDER_NUMBER.to_owned(),
        body: body.map(text),
        ..SmsLogRecord::pending(
            SmsLogId::from_uuid(Uuid::from_u128(n)),
            to.clone(),
            SmsPurpose::Message,
            START + TimeDelta::seconds(seconds),
        )
    }
}

/// Another worker's hold, until `until_minutes` after `START`.
fn foreign_lease(until_minutes: i64) -> Lease {
    Lease {
        token: Uuid::from_u128(777),
        until: START + TimeDelta::minutes(until_minutes),
    }
}

/// How many texts the metrics counted reaching `status`.
fn counted(use_cases: &UseCases, status: SmsStatus) -> u64 {
    use_cases
        .metrics
        .snapshot()
        .sms_messages
        .into_iter()
        .find(|(counted, _)| *counted == status)
        .map(|(_, count)| count)
        .unwrap()
}

/// An outbox over the fakes, built by hand: reminders written by `reminder_texts`, and the
/// provider told where to report delivery only when `status_callback` is given.
fn standalone_outbox(
    fakes: &Fakes,
    reminder_texts: &FakeReminderTexts,
    status_callback: Option<&str>,
) -> SmsOutbox {
    SmsOutbox::new(SmsOutboxPorts {
        sender: Arc::new(fakes.sms_sender.clone()),
        log: Arc::new(fakes.sms_log.clone()),
        accounts: Arc::new(fakes.sms_accounts.clone()),
        reminder_texts: Arc::new(reminder_texts.clone()),
        status_callback: status_callback.map(str::to_owned),
        caps: SmsCaps {
            per_recipient: 5,
            platform: 100,
        },
        clock: Arc::new(fakes.clock.clone()),
        ids: Arc::new(fakes.ids.clone()),
        stop: StopSignal::new(),
    })
}

/// A reminder the queue claimed for `owner`'s `plant`, its text unwritten.
fn claimed_reminder(n: u128, owner: Owner, plant: UserPlantId, to: &PhoneNumber) -> SmsLogRecord {
    SmsLogRecord {
        owner: Some(owner),
        plant: Some(plant),
        purpose: SmsPurpose::Reminder,
        ..pending(n, to, None, 0)
    }
}

fn unavailable() -> SendScript {
    SendScript::Unavailable("connection refused".to_owned())
}

fn lost_answer(taken: Option<SentSms>) -> SendScript {
    SendScript::Unknown {
        message: "timed out after the request was written".to_owned(),
        taken,
    }
}

fn provider_holds(provider_message_id: &str, status: SmsStatus) -> Option<SentSms> {
    Some(SentSms {
        provider_message_id: Some(provider_message_id.to_owned()),
        status,
    })
}

fn is_unavailable(error: &SmsLogError) -> bool {
    matches!(error, SmsLogError(StoreError::Unavailable(_)))
}

// --- Sending ------------------------------------------------------------------------------

#[tokio::test]
async fn a_text_is_logged_then_handed_to_the_provider_with_its_delivery_address() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let to = phone(1);
    let fern = reachable(&fakes, 1, &to);

    let status = use_cases
        .outbox
        .send(
            Some(fern),
            to.clone(),
            text("Fern misses you"),
            SmsPurpose::Message,
        )
        .await
        .unwrap();

    assert_eq!(status, SmsStatus::Queued);
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Queued);
    assert_eq!(entry.owner, Some(fern));
    assert_eq!(entry.from, FAKE_SENDER_NUMBER);
    assert_eq!(use_cases.outbox.sender_number(), FAKE_SENDER_NUMBER);
    assert_eq!(entry.body, Some(text("Fern misses you")));
    assert_eq!(
        entry.provider_message_id,
        Some(format!("SM{:032x}", 1)),
        "the provider's id is kept"
    );
    assert_eq!(entry.attempted_at, Some(START));
    assert_eq!(entry.sent_at, Some(START));
    assert_eq!(entry.lease, None, "the hold ends with the outcome");
    assert_eq!(
        fakes.sms_sender.sent(),
        vec![OutgoingSms {
            to,
            body: text("Fern misses you"),
            status_callback: Some(format!(
                "https://plants.example.test/status?sms_id={}",
                entry.id
            )),
        }]
    );
    assert_eq!(counted(&use_cases, SmsStatus::Queued), 1);
}

#[tokio::test]
async fn without_a_public_address_the_provider_is_not_asked_to_report_delivery() {
    let fakes = Fakes::new();
    let outbox = standalone_outbox(&fakes, &FakeReminderTexts::default(), None);

    let status = outbox
        .send(None, phone(1), text("hello"), SmsPurpose::Message)
        .await
        .unwrap();

    assert_eq!(status, SmsStatus::Queued);
    assert_eq!(fakes.sms_sender.sent()[0].status_callback, None);
}

#[tokio::test]
async fn in_demo_mode_a_text_is_logged_as_demo_without_a_provider_id() {
    let mut fakes = Fakes::new();
    fakes.sms_sender = FakeSmsSender::demo();
    let use_cases = fakes.use_cases();

    assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Demo);

    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Demo);
    assert_eq!(entry.from, "demo");
    assert_eq!(use_cases.outbox.sender_number(), "demo");
    assert_eq!(entry.provider_message_id, None);
    assert_eq!(entry.sent_at, Some(START));
    assert_eq!(counted(&use_cases, SmsStatus::Demo), 1);
}

#[tokio::test]
async fn a_verification_code_goes_to_a_number_not_yet_verified() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let to = phone(1);
    let newcomer = owner(1);
    assert!(fakes.sms_accounts.add(newcomer, holder(&to, false, false)));

    let status = use_cases
        .outbox
        .send(
            Some(newcomer),
            to,
            text("Plant Texts code: 123456"),
            SmsPurpose::Verification,
        )
        .await
        .unwrap();

    assert_eq!(status, SmsStatus::Queued);
    assert_eq!(fakes.sms_sender.sent().len(), 1);
}

/// Sends a `purpose` text to `owner(1)` at `to`, its account saying `recipient`, and answers
/// the entry; the provider must not have been called.
async fn refused_text(
    recipient: Option<Recipient>,
    to: &PhoneNumber,
    purpose: SmsPurpose,
) -> SmsLogRecord {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    if let Some(recipient) = recipient {
        assert!(fakes.sms_accounts.add(owner(1), recipient));
    }
    let status = use_cases
        .outbox
        .send(Some(owner(1)), to.clone(), text("Water me"), purpose)
        .await
        .unwrap();
    assert_eq!(status, SmsStatus::Failed);
    assert!(
        fakes.sms_sender.sent().is_empty(),
        "the provider was called"
    );
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Failed);
    assert_eq!(entry.error_code.as_deref(), Some("recipient"));
    assert_eq!(entry.next_retry_at, None, "a refusal is never retried");
    assert_eq!(counted(&use_cases, SmsStatus::Failed), 1);
    entry
}

#[tokio::test]
async fn a_text_to_a_number_not_verified_is_refused_without_calling_the_provider() {
    let to = phone(1);
    let entry = refused_text(Some(holder(&to, false, true)), &to, SmsPurpose::Message).await;
    assert_eq!(
        entry.error_message.as_deref(),
        Some("the number is not verified")
    );
}

#[tokio::test]
async fn a_reminder_to_an_account_that_opted_out_is_refused() {
    let to = phone(1);
    let entry = refused_text(Some(holder(&to, true, false)), &to, SmsPurpose::Reminder).await;
    assert_eq!(
        entry.error_message.as_deref(),
        Some("the account opted out of texts")
    );
}

#[tokio::test]
async fn a_text_to_a_number_the_account_no_longer_has_is_refused() {
    let entry = refused_text(
        Some(holder(&phone(2), true, true)),
        &phone(1),
        SmsPurpose::Verification,
    )
    .await;
    assert_eq!(
        entry.error_message.as_deref(),
        Some("the account's phone number changed")
    );
}

#[tokio::test]
async fn a_text_to_an_account_that_is_gone_or_inactive_is_refused() {
    let to = phone(1);
    let gone = refused_text(None, &to, SmsPurpose::Message).await;
    let inactive = refused_text(
        Some(Recipient {
            is_active: false,
            ..holder(&to, true, true)
        }),
        &to,
        SmsPurpose::Message,
    )
    .await;
    for entry in [gone, inactive] {
        assert_eq!(
            entry.error_message.as_deref(),
            Some("the account is gone or inactive")
        );
    }
}

#[tokio::test]
async fn a_text_the_provider_rejects_fails_for_good() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_sender.push(SendScript::Reject {
        code: Some("21211".to_owned()),
        message: "invalid To number".to_owned(),
    });

    assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Failed);

    let entry = only_entry(&fakes);
    assert_eq!(entry.error_code.as_deref(), Some("21211"));
    assert_eq!(entry.error_message.as_deref(), Some("invalid To number"));
    assert_eq!(entry.failed_at, Some(START));
    assert_eq!(entry.sent_at, None);
    assert_eq!(entry.next_retry_at, None);
    fakes.clock.advance(TimeDelta::days(1));
    assert_eq!(use_cases.outbox.retry_due().await.unwrap(), 0);
    assert_eq!(fakes.sms_sender.sent().len(), 1);
}

#[tokio::test]
async fn each_text_is_counted_under_the_status_it_reached() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_sender.push(SendScript::Reject {
        code: None,
        message: "unsubscribed".to_owned(),
    });
    fakes.sms_sender.push(lost_answer(None));
    fakes.sms_sender.push(SendScript::Accept(SentSms {
        provider_message_id: Some("SMsent".to_owned()),
        status: SmsStatus::Sent,
    }));

    let statuses = [
        send_to(&use_cases, &phone(1)).await,
        send_to(&use_cases, &phone(2)).await,
        send_to(&use_cases, &phone(3)).await,
        send_to(&use_cases, &phone(4)).await,
    ];

    assert_eq!(
        statuses,
        [
            SmsStatus::Failed,
            SmsStatus::Unknown,
            SmsStatus::Sent,
            SmsStatus::Queued
        ]
    );
    for status in [
        SmsStatus::Failed,
        SmsStatus::Unknown,
        SmsStatus::Sent,
        SmsStatus::Queued,
    ] {
        assert_eq!(counted(&use_cases, status), 1, "{status:?}");
    }
    assert_eq!(counted(&use_cases, SmsStatus::Pending), 0);
}

// --- Retries ------------------------------------------------------------------------------

#[tokio::test]
async fn an_unreachable_provider_is_tried_again_after_1_2_4_8_and_16_minutes_then_never() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    for _ in 0..6 {
        fakes.sms_sender.push(unavailable());
    }

    assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Failed);
    let mut delays = Vec::new();
    for retry in 1..=5 {
        let entry = only_entry(&fakes);
        let due = entry.next_retry_at.unwrap();
        delays.push((due - entry.failed_at.unwrap()).num_minutes());
        fakes.clock.set(due);
        assert_eq!(use_cases.outbox.retry_due().await.unwrap(), 1);
        assert_eq!(only_entry(&fakes).retry_count, retry);
    }

    assert_eq!(delays, [1, 2, 4, 8, 16]);
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Failed);
    assert_eq!(entry.error_code, None);
    assert_eq!(entry.error_message.as_deref(), Some("connection refused"));
    assert_eq!(entry.next_retry_at, None, "the retries are spent");
    fakes.clock.advance(TimeDelta::days(1));
    assert_eq!(use_cases.outbox.retry_due().await.unwrap(), 0);
    assert_eq!(fakes.sms_sender.sent().len(), 6);
}

#[tokio::test]
async fn a_retry_waits_for_its_time_and_a_retry_that_gets_through_is_queued() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_sender.push(unavailable());
    send_to(&use_cases, &phone(1)).await;

    fakes.clock.advance(TimeDelta::seconds(59));
    assert_eq!(use_cases.outbox.retry_due().await.unwrap(), 0);
    assert_eq!(fakes.sms_sender.sent().len(), 1);

    fakes.clock.advance(TimeDelta::seconds(1));
    assert_eq!(use_cases.outbox.retry_due().await.unwrap(), 1);
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Queued);
    assert_eq!(entry.retry_count, 1);
    assert_eq!(entry.last_retry_at, Some(START + TimeDelta::minutes(1)));
    assert_eq!(entry.next_retry_at, None);
    assert_eq!(fakes.sms_sender.sent().len(), 2);
}

#[tokio::test]
async fn a_verification_code_retried_after_its_lifetime_is_not_sent() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    for _ in 0..4 {
        fakes.sms_sender.push(unavailable());
    }
    use_cases
        .outbox
        .send(
            None,
            phone(1),
            text("Plant Texts code: 123456"),
            SmsPurpose::Verification,
        )
        .await
        .unwrap();

    // Retries at 1, 3 and 7 minutes fail again; the one at 15 minutes would bring a dead code.
    for _ in 0..4 {
        fakes.clock.set(only_entry(&fakes).next_retry_at.unwrap());
        assert_eq!(use_cases.outbox.retry_due().await.unwrap(), 1);
    }

    assert_eq!(fakes.clock.now(), START + TimeDelta::minutes(15));
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Failed);
    assert_eq!(entry.error_code.as_deref(), Some("expired"));
    assert_eq!(entry.next_retry_at, None);
    assert_eq!(fakes.sms_sender.sent().len(), 4);
}

#[tokio::test]
async fn a_verification_code_taken_over_at_the_end_of_its_lifetime_is_not_sent() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_log.insert(SmsLogRecord {
        purpose: SmsPurpose::Verification,
        ..pending(1, &phone(1), Some("Plant Texts code: 123456"), 0)
    });
    fakes.clock.set(START + TimeDelta::minutes(10));

    use_cases.outbox.send_pending().await.unwrap();

    assert!(fakes.sms_sender.sent().is_empty(), "a dead code was sent");
    assert_eq!(only_entry(&fakes).error_code.as_deref(), Some("expired"));
}

// --- Caps ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_text_over_the_daily_cap_per_number_is_not_sent() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    for _ in 0..5 {
        assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Queued);
    }

    assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Failed);

    let capped = fakes.sms_log.entries().pop().unwrap();
    assert_eq!(capped.error_code.as_deref(), Some("cap"));
    assert_eq!(
        capped.error_message.as_deref(),
        Some("the daily SMS cap is reached")
    );
    assert_eq!(capped.next_retry_at, None);
    assert_eq!(fakes.sms_sender.sent().len(), 5);
    assert_eq!(
        send_to(&use_cases, &phone(2)).await,
        SmsStatus::Queued,
        "another number is not capped"
    );
}

#[tokio::test]
async fn the_cap_per_account_counts_the_texts_to_its_earlier_number() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let fern = reachable(&fakes, 1, &phone(1));
    let send = |to: PhoneNumber| {
        use_cases
            .outbox
            .send(Some(fern), to, text("Water me"), SmsPurpose::Message)
    };
    for _ in 0..5 {
        assert_eq!(send(phone(1)).await.unwrap(), SmsStatus::Queued);
    }
    assert!(fakes.sms_accounts.add(fern, holder(&phone(2), true, true)));

    assert_eq!(send(phone(2)).await.unwrap(), SmsStatus::Failed);

    let capped = fakes.sms_log.entries().pop().unwrap();
    assert_eq!(capped.error_code.as_deref(), Some("cap"));
    assert_eq!(fakes.sms_sender.sent().len(), 5);
}

#[tokio::test]
async fn the_platform_cap_stops_every_text() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    for n in 0..100 {
        assert_eq!(send_to(&use_cases, &phone(n / 5)).await, SmsStatus::Queued);
    }

    assert_eq!(send_to(&use_cases, &phone(999)).await, SmsStatus::Failed);

    let capped = fakes.sms_log.entries().pop().unwrap();
    assert_eq!(capped.error_code.as_deref(), Some("cap"));
    assert_eq!(fakes.sms_sender.sent().len(), 100);
}

#[tokio::test]
async fn the_daily_caps_cover_a_rolling_24_hours() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    for _ in 0..5 {
        send_to(&use_cases, &phone(1)).await;
    }

    fakes.clock.set(START + TimeDelta::hours(24));
    assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Failed);

    fakes.clock.advance(TimeDelta::seconds(1));
    assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Queued);
    assert_eq!(fakes.sms_sender.sent().len(), 6);
}

#[tokio::test]
async fn a_text_that_may_have_gone_out_counts_against_the_cap() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    for _ in 0..5 {
        fakes.sms_sender.push(lost_answer(None));
        assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Unknown);
    }

    assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Failed);
    assert_eq!(fakes.sms_sender.sent().len(), 5);
}

#[tokio::test]
async fn texts_that_failed_or_were_refused_do_not_count_against_the_cap() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    for _ in 0..5 {
        fakes.sms_sender.push(unavailable());
        assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Failed);
    }
    for _ in 0..5 {
        // No account: refused before the provider.
        let status = use_cases
            .outbox
            .send(Some(owner(1)), phone(1), text("hi"), SmsPurpose::Message)
            .await
            .unwrap();
        assert_eq!(status, SmsStatus::Failed);
    }

    assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Queued);
}

// --- The workers: leases, takeovers, stopping ---------------------------------------------

#[tokio::test]
async fn pending_texts_nobody_holds_are_sent_oldest_first_in_batches() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    for n in (0..12_u32).rev() {
        let body = format!("text {n}");
        fakes.sms_log.insert(pending(
            u128::from(n) + 1,
            &phone(n),
            Some(&body),
            i64::from(n),
        ));
    }
    fakes.clock.advance(TimeDelta::minutes(1));

    assert_eq!(use_cases.outbox.send_pending().await.unwrap(), 12);

    let bodies: Vec<String> = fakes
        .sms_sender
        .sent()
        .into_iter()
        .map(|sms| sms.body.as_str().to_owned())
        .collect();
    let expected: Vec<String> = (0..12).map(|n| format!("text {n}")).collect();
    assert_eq!(bodies, expected);
    assert!(
        fakes
            .sms_log
            .entries()
            .iter()
            .all(|entry| entry.status == SmsStatus::Queued)
    );
    assert_eq!(use_cases.outbox.send_pending().await.unwrap(), 0);
}

#[tokio::test]
async fn a_text_another_worker_holds_is_left_to_it_until_its_lease_runs_out() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_log.insert(SmsLogRecord {
        lease: Some(foreign_lease(5)),
        ..pending(1, &phone(1), Some("hello"), 0)
    });

    fakes.clock.advance(TimeDelta::minutes(4));
    assert_eq!(use_cases.outbox.send_pending().await.unwrap(), 0);
    assert!(fakes.sms_sender.sent().is_empty());

    fakes.clock.advance(TimeDelta::minutes(1));
    assert_eq!(use_cases.outbox.send_pending().await.unwrap(), 1);
    assert_eq!(fakes.sms_sender.sent().len(), 1);
    assert_eq!(only_entry(&fakes).status, SmsStatus::Queued);
}

#[tokio::test]
async fn a_text_whose_sender_died_during_the_attempt_becomes_unknown_and_is_not_sent_again() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_log.insert(SmsLogRecord {
        lease: Some(foreign_lease(5)),
        attempted_at: Some(START),
        ..pending(1, &phone(1), Some("hello"), 0)
    });
    fakes.clock.set(START + TimeDelta::minutes(5));

    assert_eq!(use_cases.outbox.send_pending().await.unwrap(), 1);

    assert!(fakes.sms_sender.sent().is_empty());
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Unknown);
    assert_eq!(
        entry.error_message.as_deref(),
        Some("the sender stopped during the attempt")
    );
    assert_eq!(
        entry.updated_at, START,
        "the outcome is dated at the attempt"
    );
    assert_eq!(counted(&use_cases, SmsStatus::Unknown), 1);
}

#[tokio::test]
async fn a_pending_text_with_nothing_to_say_fails_for_good() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_log.insert(pending(1, &phone(1), None, 0));

    assert_eq!(use_cases.outbox.send_pending().await.unwrap(), 1);

    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Failed);
    assert_eq!(entry.error_code.as_deref(), Some("recipient"));
    assert_eq!(
        entry.error_message.as_deref(),
        Some("the message has no text")
    );
    assert!(fakes.sms_sender.sent().is_empty());
}

#[tokio::test]
async fn a_text_whose_hold_was_taken_over_before_the_attempt_is_not_sent() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_log.interfere(|call, rows| {
        if call == SmsLogCall::MarkAttempt {
            for row in rows.iter_mut() {
                row.lease = Some(foreign_lease(10));
            }
        }
    });

    assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Pending);

    assert!(fakes.sms_sender.sent().is_empty());
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Pending);
    assert_eq!(entry.attempted_at, None);
    assert_eq!(entry.lease, Some(foreign_lease(10)));
    assert_eq!(counted(&use_cases, SmsStatus::Pending), 0);
}

#[tokio::test]
async fn no_worker_starts_on_the_outbox_once_the_service_is_stopping() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes
        .sms_log
        .insert(pending(1, &phone(1), Some("hello"), 0));
    assert!(!use_cases.outbox.is_stopping());

    use_cases.stop.raise();

    assert!(use_cases.outbox.is_stopping());
    assert_eq!(use_cases.outbox.send_pending().await.unwrap(), 0);
    assert!(fakes.sms_sender.sent().is_empty());
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Pending);
    assert_eq!(entry.lease, None, "nothing was taken");
}

#[tokio::test]
async fn a_worker_told_to_stop_finishes_its_text_and_leaves_the_rest_held() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    for n in 0..3 {
        fakes.sms_log.insert(pending(
            u128::from(n) + 1,
            &phone(n),
            Some("hello"),
            i64::from(n),
        ));
    }
    let stop = use_cases.stop.clone();
    fakes.sms_log.interfere(move |call, _| {
        if call == SmsLogCall::RecordOutcome {
            stop.raise();
        }
    });

    assert_eq!(use_cases.outbox.send_pending().await.unwrap(), 1);

    assert_eq!(fakes.sms_sender.sent().len(), 1);
    let entries = fakes.sms_log.entries();
    let (sent, held): (Vec<_>, Vec<_>) = entries
        .iter()
        .partition(|entry| entry.status == SmsStatus::Queued);
    assert_eq!(sent.len(), 1);
    assert_eq!(held.len(), 2);
    for entry in held {
        assert_eq!(entry.status, SmsStatus::Pending);
        assert_eq!(
            entry.lease.map(|lease| lease.until),
            Some(START + TimeDelta::minutes(5)),
            "held until the lease runs out"
        );
    }
}

// --- Reminders written when sent ----------------------------------------------------------

#[tokio::test]
async fn a_claimed_reminder_is_written_when_it_is_sent_and_its_text_kept() {
    let fakes = Fakes::new();
    let texts = FakeReminderTexts::default();
    let outbox = standalone_outbox(&fakes, &texts, None);
    let fern = reachable(&fakes, 1, &phone(1));
    let plant = UserPlantId::from_uuid(Uuid::from_u128(50));
    texts.set(fern, plant, text("Fern: water me"));
    fakes
        .sms_log
        .insert(claimed_reminder(1, fern, plant, &phone(1)));

    assert_eq!(outbox.send_pending().await.unwrap(), 1);

    assert_eq!(texts.requests(), vec![(fern, plant)]);
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Queued);
    assert_eq!(entry.body, Some(text("Fern: water me")));
    assert_eq!(fakes.sms_sender.sent()[0].body, text("Fern: water me"));
}

#[tokio::test]
async fn a_reminder_for_a_plant_that_is_gone_fails_for_good() {
    let fakes = Fakes::new();
    let texts = FakeReminderTexts::default();
    let outbox = standalone_outbox(&fakes, &texts, None);
    let fern = reachable(&fakes, 1, &phone(1));
    let plant = UserPlantId::from_uuid(Uuid::from_u128(50));
    fakes
        .sms_log
        .insert(claimed_reminder(1, fern, plant, &phone(1)));

    assert_eq!(outbox.send_pending().await.unwrap(), 1);

    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Failed);
    assert_eq!(entry.error_code.as_deref(), Some("recipient"));
    assert_eq!(entry.error_message.as_deref(), Some("the plant is gone"));
    assert!(fakes.sms_sender.sent().is_empty());
}

#[tokio::test]
async fn a_reminder_whose_text_cannot_be_written_is_left_held_for_a_later_pass() {
    let fakes = Fakes::new();
    let conversations_down = Outage::default();
    let texts = FakeReminderTexts::new(conversations_down.clone());
    let outbox = standalone_outbox(&fakes, &texts, None);
    let fern = reachable(&fakes, 1, &phone(1));
    let plant = UserPlantId::from_uuid(Uuid::from_u128(50));
    texts.set(fern, plant, text("Fern: water me"));
    fakes
        .sms_log
        .insert(claimed_reminder(1, fern, plant, &phone(1)));
    conversations_down.begin();

    assert_eq!(outbox.send_pending().await.unwrap(), 0);
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Pending);
    assert_eq!(entry.body, None);
    assert!(entry.lease.is_some(), "left held");
    assert!(fakes.sms_sender.sent().is_empty());

    conversations_down.end();
    assert_eq!(outbox.send_pending().await.unwrap(), 0, "still held");
    fakes.clock.advance(TimeDelta::minutes(5));
    assert_eq!(outbox.send_pending().await.unwrap(), 1);
    assert_eq!(only_entry(&fakes).status, SmsStatus::Queued);
}

#[tokio::test]
async fn a_reminder_whose_hold_is_lost_while_it_is_written_is_left_to_the_new_holder() {
    let fakes = Fakes::new();
    let texts = FakeReminderTexts::default();
    let outbox = standalone_outbox(&fakes, &texts, None);
    let fern = reachable(&fakes, 1, &phone(1));
    let plant = UserPlantId::from_uuid(Uuid::from_u128(50));
    texts.set(fern, plant, text("Fern: water me"));
    fakes
        .sms_log
        .insert(claimed_reminder(1, fern, plant, &phone(1)));
    fakes.sms_log.interfere(|call, rows| {
        if call == SmsLogCall::WriteBody {
            for row in rows.iter_mut() {
                row.lease = Some(foreign_lease(10));
            }
        }
    });

    assert_eq!(outbox.send_pending().await.unwrap(), 0);

    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Pending);
    assert_eq!(entry.body, None, "the new holder writes its own");
    assert!(fakes.sms_sender.sent().is_empty());
}

#[tokio::test]
async fn a_reminder_over_the_cap_is_refused_before_its_text_is_written() {
    let fakes = Fakes::new();
    let texts = FakeReminderTexts::default();
    let outbox = standalone_outbox(&fakes, &texts, None);
    let fern = reachable(&fakes, 1, &phone(1));
    let plant = UserPlantId::from_uuid(Uuid::from_u128(50));
    texts.set(fern, plant, text("Fern: water me"));
    for _ in 0..5 {
        outbox
            .send(Some(fern), phone(1), text("hello"), SmsPurpose::Message)
            .await
            .unwrap();
    }
    fakes
        .sms_log
        .insert(claimed_reminder(1, fern, plant, &phone(1)));

    assert_eq!(outbox.send_pending().await.unwrap(), 1);

    assert!(texts.requests().is_empty(), "no text was written");
    let reminder = fakes
        .sms_log
        .entry(SmsLogId::from_uuid(Uuid::from_u128(1)))
        .unwrap();
    assert_eq!(reminder.error_code.as_deref(), Some("cap"));
}

// --- Unknown outcomes ---------------------------------------------------------------------

#[tokio::test]
async fn a_send_whose_answer_was_lost_stays_unknown_and_is_never_resent_blindly() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_sender.push(lost_answer(None));

    assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Unknown);

    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Unknown);
    assert_eq!(
        entry.error_message.as_deref(),
        Some("timed out after the request was written")
    );
    assert_eq!(entry.attempted_at, Some(START));
    assert_eq!(entry.sent_at, None);
    fakes.clock.advance(TimeDelta::hours(1));
    assert_eq!(use_cases.outbox.retry_due().await.unwrap(), 0);
    assert_eq!(use_cases.outbox.send_pending().await.unwrap(), 0);
    assert_eq!(fakes.sms_sender.sent().len(), 1);
}

#[tokio::test]
async fn an_unknown_send_the_provider_took_is_settled_after_a_minute_with_its_id_and_status() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes
        .sms_sender
        .push(lost_answer(provider_holds("SMtaken", SmsStatus::Sent)));
    send_to(&use_cases, &phone(1)).await;

    fakes.clock.advance(TimeDelta::minutes(1));
    assert_eq!(use_cases.outbox.settle_unknown().await.unwrap(), 0);
    assert!(fakes.sms_sender.lookups().is_empty(), "too early to ask");

    fakes.clock.advance(TimeDelta::seconds(1));
    assert_eq!(use_cases.outbox.settle_unknown().await.unwrap(), 1);

    assert_eq!(
        fakes.sms_sender.lookups(),
        vec![Lookup {
            to: phone(1),
            body: text("Fern says hi"),
            attempted_at: START,
        }]
    );
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Sent);
    assert_eq!(entry.provider_message_id.as_deref(), Some("SMtaken"));
    assert_eq!(entry.sent_at, Some(START), "sent when it was attempted");
    assert_eq!(use_cases.outbox.settle_unknown().await.unwrap(), 0);
}

#[tokio::test]
async fn a_send_settled_by_a_lookup_is_counted_under_the_status_it_reached() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes
        .sms_sender
        .push(lost_answer(provider_holds("SMtaken", SmsStatus::Sent)));
    fakes.sms_sender.push(lost_answer(None));
    send_to(&use_cases, &phone(1)).await;
    send_to(&use_cases, &phone(2)).await;
    fakes.clock.advance(TimeDelta::minutes(30));

    assert_eq!(use_cases.outbox.settle_unknown().await.unwrap(), 2);

    assert_eq!(counted(&use_cases, SmsStatus::Sent), 1);
    assert_eq!(counted(&use_cases, SmsStatus::Failed), 1);
}

#[tokio::test]
async fn an_unknown_send_the_provider_never_took_fails_after_half_an_hour_and_is_retried() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_sender.push(lost_answer(None));
    send_to(&use_cases, &phone(1)).await;

    fakes.clock.advance(TimeDelta::minutes(29));
    assert_eq!(use_cases.outbox.settle_unknown().await.unwrap(), 0);
    assert_eq!(only_entry(&fakes).status, SmsStatus::Unknown);

    fakes.clock.advance(TimeDelta::minutes(1));
    assert_eq!(use_cases.outbox.settle_unknown().await.unwrap(), 1);
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Failed);
    assert_eq!(entry.error_code.as_deref(), Some("not_found"));
    assert_eq!(
        entry.error_message.as_deref(),
        Some("the provider never took the message")
    );
    assert_eq!(entry.failed_at, Some(START + TimeDelta::minutes(30)));
    let due = entry.next_retry_at.unwrap();
    assert_eq!(due, START + TimeDelta::minutes(31));

    fakes.clock.set(due);
    assert_eq!(use_cases.outbox.retry_due().await.unwrap(), 1);
    assert_eq!(only_entry(&fakes).status, SmsStatus::Queued);
    assert_eq!(fakes.sms_sender.sent().len(), 2);
}

#[tokio::test]
async fn a_provider_message_of_another_entry_or_without_an_id_does_not_settle_an_unknown_send() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    // The same words to the same number went out before, as another entry.
    assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Queued);
    fakes.sms_sender.push(lost_answer(None));
    assert_eq!(send_to(&use_cases, &phone(1)).await, SmsStatus::Unknown);
    fakes.sms_sender.hold(HeldSms {
        to: phone(1),
        body: text("Fern says hi"),
        sent_at: None,
        sms: SentSms {
            provider_message_id: None,
            status: SmsStatus::Queued,
        },
    });
    fakes.clock.advance(TimeDelta::minutes(30));

    assert_eq!(use_cases.outbox.settle_unknown().await.unwrap(), 1);

    let entries = fakes.sms_log.entries();
    assert_eq!(entries[0].status, SmsStatus::Queued);
    assert_eq!(entries[1].status, SmsStatus::Failed);
    assert_eq!(entries[1].error_code.as_deref(), Some("not_found"));
    assert_eq!(entries[1].provider_message_id, None);
}

#[tokio::test]
async fn an_unknown_send_the_provider_cannot_be_asked_about_waits_for_the_next_pass() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes
        .sms_sender
        .push(lost_answer(provider_holds("SMtaken", SmsStatus::Queued)));
    send_to(&use_cases, &phone(1)).await;
    fakes
        .sms_sender
        .fail_next_lookup(SendSmsError::Unavailable("503".to_owned()));
    fakes.clock.advance(TimeDelta::minutes(45));

    assert_eq!(use_cases.outbox.settle_unknown().await.unwrap(), 0);
    assert_eq!(only_entry(&fakes).status, SmsStatus::Unknown);

    assert_eq!(use_cases.outbox.settle_unknown().await.unwrap(), 1);
    assert_eq!(only_entry(&fakes).status, SmsStatus::Queued);
    assert_eq!(fakes.sms_sender.lookups().len(), 2);
}

#[tokio::test]
async fn an_unknown_send_settled_meanwhile_is_not_counted_as_settled_again() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes
        .sms_sender
        .push(lost_answer(provider_holds("SMtaken", SmsStatus::Queued)));
    send_to(&use_cases, &phone(1)).await;
    fakes.clock.advance(TimeDelta::minutes(2));
    // A delivery report gets there between the lookup and the write.
    fakes.sms_log.interfere(|call, rows| {
        if call == SmsLogCall::Settle {
            rows[0].status = SmsStatus::Delivered;
            rows[0].provider_message_id = Some("SMtaken".to_owned());
        }
    });

    assert_eq!(use_cases.outbox.settle_unknown().await.unwrap(), 0);

    assert_eq!(only_entry(&fakes).status, SmsStatus::Delivered);
}

#[tokio::test]
async fn no_unknown_send_is_looked_up_once_the_service_is_stopping() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_sender.push(lost_answer(None));
    send_to(&use_cases, &phone(1)).await;
    fakes.clock.advance(TimeDelta::hours(1));
    use_cases.stop.raise();

    assert_eq!(use_cases.outbox.settle_unknown().await.unwrap(), 0);

    assert!(fakes.sms_sender.lookups().is_empty());
    assert_eq!(only_entry(&fakes).status, SmsStatus::Unknown);
}

// --- Delivery reports ---------------------------------------------------------------------

/// Sends one text (queued as `SM...1`) and answers its provider id.
async fn one_queued_text(use_cases: &UseCases) -> String {
    assert_eq!(send_to(use_cases, &phone(1)).await, SmsStatus::Queued);
    format!("SM{:032x}", 1)
}

#[tokio::test]
async fn delivery_reports_move_a_text_forward() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let sid = one_queued_text(&use_cases).await;
    let outbox = &use_cases.outbox;

    fakes.clock.advance(TimeDelta::seconds(5));
    assert!(
        outbox
            .apply_delivery_report(&sid, None, SmsStatus::Sent, None)
            .await
            .unwrap()
    );
    assert_eq!(only_entry(&fakes).status, SmsStatus::Sent);
    fakes.clock.advance(TimeDelta::seconds(5));
    assert!(
        outbox
            .apply_delivery_report(&sid, None, SmsStatus::Delivered, None)
            .await
            .unwrap()
    );

    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Delivered);
    assert_eq!(entry.delivered_at, Some(START + TimeDelta::seconds(10)));
    assert_eq!(counted(&use_cases, SmsStatus::Sent), 1);
    assert_eq!(counted(&use_cases, SmsStatus::Delivered), 1);
}

#[tokio::test]
async fn a_late_report_never_moves_a_text_backwards() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let sid = one_queued_text(&use_cases).await;
    let outbox = &use_cases.outbox;
    outbox
        .apply_delivery_report(&sid, None, SmsStatus::Delivered, None)
        .await
        .unwrap();

    for late in [SmsStatus::Sent, SmsStatus::Queued, SmsStatus::Failed] {
        let moved = outbox
            .apply_delivery_report(&sid, None, late, Some("30008".to_owned()))
            .await
            .unwrap();
        assert!(!moved, "{late:?}");
    }

    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Delivered);
    assert_eq!(entry.error_code, None);
}

#[tokio::test]
async fn an_undelivered_report_keeps_the_carriers_error_code() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let sid = one_queued_text(&use_cases).await;
    fakes.clock.advance(TimeDelta::minutes(1));

    let moved = use_cases
        .outbox
        .apply_delivery_report(&sid, None, SmsStatus::Undelivered, Some("30003".to_owned()))
        .await
        .unwrap();

    assert!(moved);
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Undelivered);
    assert_eq!(entry.error_code.as_deref(), Some("30003"));
    assert_eq!(entry.failed_at, Some(START + TimeDelta::minutes(1)));
}

#[tokio::test]
async fn a_report_about_a_message_nobody_logged_changes_nothing() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    one_queued_text(&use_cases).await;
    let before = fakes.sms_log.entries();

    let moved = use_cases
        .outbox
        .apply_delivery_report("SMstranger", None, SmsStatus::Delivered, None)
        .await
        .unwrap();

    assert!(!moved);
    assert_eq!(fakes.sms_log.entries(), before);
}

#[tokio::test]
async fn a_report_naming_an_unknown_send_settles_it_then_applies() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_sender.push(lost_answer(None));
    send_to(&use_cases, &phone(1)).await;
    let id = only_entry(&fakes).id;
    fakes.clock.advance(TimeDelta::seconds(30));

    let moved = use_cases
        .outbox
        .apply_delivery_report(
            "SMlate",
            Some(id),
            SmsStatus::Undelivered,
            Some("30005".into()),
        )
        .await
        .unwrap();

    assert!(moved);
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Undelivered);
    assert_eq!(entry.provider_message_id.as_deref(), Some("SMlate"));
    assert_eq!(entry.error_code.as_deref(), Some("30005"));
    assert_eq!(entry.sent_at, Some(START + TimeDelta::seconds(30)));
}

#[tokio::test]
async fn a_queued_report_naming_an_unknown_send_settles_it_as_queued() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_sender.push(lost_answer(None));
    send_to(&use_cases, &phone(1)).await;
    let id = only_entry(&fakes).id;

    let moved = use_cases
        .outbox
        .apply_delivery_report("SMlate", Some(id), SmsStatus::Queued, None)
        .await
        .unwrap();

    assert!(moved);
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Queued);
    assert_eq!(entry.provider_message_id.as_deref(), Some("SMlate"));
}

#[tokio::test]
async fn a_report_naming_an_entry_whose_outcome_is_known_changes_nothing() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let sid = one_queued_text(&use_cases).await;
    let id = only_entry(&fakes).id;

    let moved = use_cases
        .outbox
        .apply_delivery_report("SMother", Some(id), SmsStatus::Delivered, None)
        .await
        .unwrap();

    assert!(!moved);
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Queued);
    assert_eq!(entry.provider_message_id, Some(sid));
}

#[tokio::test]
async fn a_report_that_lost_a_race_to_another_reads_the_entry_again() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let sid = one_queued_text(&use_cases).await;
    let mut raced = false;
    fakes.sms_log.interfere(move |call, rows| {
        if call == SmsLogCall::ChangeStatus && !raced {
            raced = true;
            rows[0].status = SmsStatus::Sent;
        }
    });

    let moved = use_cases
        .outbox
        .apply_delivery_report(&sid, None, SmsStatus::Delivered, None)
        .await
        .unwrap();

    assert!(moved);
    assert_eq!(only_entry(&fakes).status, SmsStatus::Delivered);
}

#[tokio::test]
async fn a_report_that_keeps_losing_races_gives_up_after_three_reads() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let sid = one_queued_text(&use_cases).await;
    fakes.sms_log.interfere(|call, rows| {
        if call == SmsLogCall::ChangeStatus {
            rows[0].status = if rows[0].status == SmsStatus::Queued {
                SmsStatus::Sent
            } else {
                SmsStatus::Queued
            };
        }
    });

    let moved = use_cases
        .outbox
        .apply_delivery_report(&sid, None, SmsStatus::Delivered, None)
        .await
        .unwrap();

    assert!(!moved);
    assert_ne!(only_entry(&fakes).status, SmsStatus::Delivered);
    assert_eq!(counted(&use_cases, SmsStatus::Delivered), 0);
}

// --- The log failing ----------------------------------------------------------------------

#[tokio::test]
async fn every_outbox_operation_reports_a_log_that_is_down() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let outbox = &use_cases.outbox;
    fakes.outage.begin();

    let sent = outbox
        .send(None, phone(1), text("hi"), SmsPurpose::Message)
        .await;
    assert!(is_unavailable(&sent.unwrap_err()));
    assert!(is_unavailable(&outbox.send_pending().await.unwrap_err()));
    assert!(is_unavailable(&outbox.retry_due().await.unwrap_err()));
    assert!(is_unavailable(&outbox.settle_unknown().await.unwrap_err()));
    let reported = outbox
        .apply_delivery_report("SM1", None, SmsStatus::Delivered, None)
        .await;
    assert!(is_unavailable(&reported.unwrap_err()));

    assert!(fakes.sms_log.entries().is_empty());
    assert!(fakes.sms_sender.sent().is_empty());
}

#[tokio::test]
async fn a_text_whose_recipient_cannot_be_read_stays_pending_unsent() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let fern = reachable(&fakes, 1, &phone(1));
    let outage = fakes.outage.clone();
    fakes.sms_log.interfere(move |call, _| {
        if call == SmsLogCall::RecordPending {
            outage.begin();
        }
    });

    let sent = use_cases
        .outbox
        .send(Some(fern), phone(1), text("hi"), SmsPurpose::Message)
        .await;

    assert!(is_unavailable(&sent.unwrap_err()));
    assert!(fakes.sms_sender.sent().is_empty());
    assert_eq!(only_entry(&fakes).status, SmsStatus::Pending);
}

#[tokio::test]
async fn a_log_down_once_the_provider_took_a_text_leaves_it_to_be_looked_up_not_resent() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let outage = fakes.outage.clone();
    fakes.sms_log.interfere(move |call, _| {
        if call == SmsLogCall::MarkAttempt {
            outage.begin();
        }
    });

    let sent = use_cases
        .outbox
        .send(None, phone(1), text("hi"), SmsPurpose::Message)
        .await;
    assert!(is_unavailable(&sent.unwrap_err()));
    assert_eq!(fakes.sms_sender.sent().len(), 1);

    fakes.outage.end();
    fakes.sms_log.stop_interfering();
    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Pending);
    assert_eq!(entry.attempted_at, Some(START));
    fakes.clock.advance(TimeDelta::minutes(5));
    assert_eq!(use_cases.outbox.send_pending().await.unwrap(), 1);
    assert_eq!(only_entry(&fakes).status, SmsStatus::Unknown);
    fakes.clock.advance(TimeDelta::minutes(1));
    assert_eq!(use_cases.outbox.settle_unknown().await.unwrap(), 1);

    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Queued);
    assert_eq!(entry.provider_message_id, Some(format!("SM{:032x}", 1)));
    assert_eq!(fakes.sms_sender.sent().len(), 1, "never sent twice");
}

#[tokio::test]
async fn a_retry_run_reports_a_log_that_goes_down_after_the_requeue() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes.sms_sender.push(unavailable());
    send_to(&use_cases, &phone(1)).await;
    fakes.clock.advance(TimeDelta::minutes(1));
    let outage = fakes.outage.clone();
    fakes.sms_log.interfere(move |call, _| {
        if call == SmsLogCall::RequeueDueRetries {
            outage.begin();
        }
    });

    assert!(is_unavailable(
        &use_cases.outbox.retry_due().await.unwrap_err()
    ));

    let entry = only_entry(&fakes);
    assert_eq!(entry.status, SmsStatus::Pending, "requeued, not yet sent");
    assert_eq!(entry.retry_count, 1);
    assert_eq!(fakes.sms_sender.sent().len(), 1);
}

#[tokio::test]
async fn a_settling_pass_reports_a_log_that_goes_down_during_the_lookup() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    fakes
        .sms_sender
        .push(lost_answer(provider_holds("SMtaken", SmsStatus::Queued)));
    send_to(&use_cases, &phone(1)).await;
    fakes.clock.advance(TimeDelta::minutes(2));
    let outage = fakes.outage.clone();
    fakes.sms_log.interfere(move |call, _| {
        if call == SmsLogCall::Unsettled {
            outage.begin();
        }
    });

    assert!(is_unavailable(
        &use_cases.outbox.settle_unknown().await.unwrap_err()
    ));

    assert_eq!(fakes.sms_sender.lookups().len(), 1);
    assert_eq!(only_entry(&fakes).status, SmsStatus::Unknown);
}

#[tokio::test]
async fn the_outbox_shows_in_debug_output_without_its_ports() {
    let fakes = Fakes::new();
    let ports = SmsOutboxPorts {
        sender: Arc::new(fakes.sms_sender.clone()),
        log: Arc::new(fakes.sms_log.clone()),
        accounts: Arc::new(fakes.sms_accounts.clone()),
        reminder_texts: Arc::new(FakeReminderTexts::default()),
        status_callback: None,
        caps: SmsCaps {
            per_recipient: 5,
            platform: 100,
        },
        clock: Arc::new(fakes.clock.clone()),
        ids: Arc::new(fakes.ids.clone()),
        stop: StopSignal::new(),
    };

    assert_eq!(format!("{ports:?}"), "SmsOutboxPorts { .. }");
    assert_eq!(format!("{:?}", SmsOutbox::new(ports)), "SmsOutbox { .. }");
}
