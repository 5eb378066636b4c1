//! Operations over the fakes: the feature-flag switchboard, idempotency keys, the daily
//! retention job, how failures are typed, the stop signal, and the composition of every use case.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::{
    error::Error as _,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, TimeDelta, Utc};
use domain::{
    catalog::CatalogPlantId,
    chat::{Channel, ChatText},
    gardens::{Cell, GardenId, GardenName, GridSide, PlantingStatus},
    identity::{TenantId, UserId},
    ops::retention::RetentionCutoffs,
    plants::Nickname,
};
use plant_texts_application::{
    chat::{ChatError, ConversationPorts},
    compose::{Tunables, UseCases, compose},
    failure::Failure,
    flags::{FeatureFlags, Flag, FlagValues},
    gardens::{
        CreatePlantingError, GardenError, GardenPorts, NewGarden, NewPlanting, RULE_ENGINE_OFF,
    },
    idempotency::{IdempotencyKey, KeyClaim, StoredResponse},
    identity::ports::HasherError,
    metrics::{AiOutcome, ComplianceAction},
    ops::{RETENTION_JOB, RetentionReport},
    plants::{NewPlant, Owner, PlantPorts},
    sms::SmsCaps,
    store::StoreError,
    system::StopSignal,
    testing::{
        Fakes,
        catalog::sample,
        flags::StoredFlag,
        idempotency::IdempotencyRecord,
        ops::JobRun,
        system::{START, SequentialIds},
    },
};
use uuid::Uuid;

fn values(pairs: &[(Flag, bool)]) -> FlagValues {
    pairs.iter().copied().collect()
}

/// Every flag set to `enabled`.
fn all(enabled: bool) -> FlagValues {
    Flag::ALL.into_iter().map(|flag| (flag, enabled)).collect()
}

fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

fn created() -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("location".to_owned(), "/api/v2/gardens/1".to_owned())],
        body: br#"{"id":"1"}"#.to_vec(),
    }
}

fn owner(n: u128) -> Owner {
    Owner {
        tenant_id: TenantId::from_uuid(Uuid::from_u128(n)),
        user_id: UserId::from_uuid(Uuid::from_u128(1_000 + n)),
    }
}

fn tunables() -> Tunables {
    Tunables {
        sms_caps: SmsCaps {
            per_recipient: 5,
            platform: 100,
        },
        sms_status_callback: None,
        probe_timeout: Duration::from_secs(1),
    }
}

/// `owner`'s 2 × 2 garden, through `use_cases`.
async fn garden(use_cases: &UseCases, owner: Owner) -> GardenId {
    use_cases
        .gardens
        .create(
            owner,
            NewGarden {
                name: GardenName::parse("Plot").unwrap(),
                width: GridSide::new(2).unwrap(),
                length: GridSide::new(2).unwrap(),
            },
        )
        .await
        .unwrap()
        .id
}

fn at_origin(species: CatalogPlantId) -> NewPlanting {
    NewPlanting {
        catalog_plant_id: species,
        cell: Cell { x: 0, y: 0 },
        status: PlantingStatus::Planned,
        planted_on: None,
    }
}

// --- the switchboard ----------------------------------------------------------------------

#[tokio::test]
async fn the_first_start_stores_the_initial_values_and_applies_them() {
    let fakes = Fakes::new();
    let initial = values(&[
        (Flag::RuleEngine, true),
        (Flag::ComplianceEnforcement, false),
        (Flag::AiChat, true),
        (Flag::SmsReminders, false),
    ]);

    let applied = fakes.use_cases().switchboard.start(&initial).await.unwrap();

    assert_eq!(applied, initial);
    assert_eq!(fakes.flags.values(), initial);
    let rows = fakes.flag_store.rows();
    assert_eq!(rows.len(), 4);
    for (flag, enabled) in &initial {
        assert_eq!(
            rows[flag],
            StoredFlag {
                enabled: *enabled,
                updated_at: START
            }
        );
    }
}

#[tokio::test]
async fn a_later_start_keeps_the_stored_values_over_the_initial_ones() {
    let fakes = Fakes::new();
    let earlier = START - TimeDelta::days(3);
    fakes.flag_store.insert(Flag::AiChat, false, earlier);

    let applied = fakes
        .use_cases()
        .switchboard
        .start(&all(true))
        .await
        .unwrap();

    assert!(!applied[&Flag::AiChat]);
    assert!(!fakes.flags.is_enabled(Flag::AiChat));
    assert!(fakes.flags.is_enabled(Flag::RuleEngine));
    let rows = fakes.flag_store.rows();
    assert_eq!(
        rows[&Flag::AiChat],
        StoredFlag {
            enabled: false,
            updated_at: earlier
        }
    );
    assert_eq!(rows[&Flag::RuleEngine].updated_at, START);
}

#[tokio::test]
async fn starting_during_an_outage_fails_and_leaves_the_flags_alone() {
    let fakes = Fakes::new();
    fakes.outage.begin();

    let failed = fakes.use_cases().switchboard.start(&all(false)).await;

    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
    assert_eq!(fakes.flags.values(), all(true));
    assert!(fakes.flag_store.rows().is_empty());
}

#[tokio::test]
async fn the_current_values_name_every_flag() {
    let fakes = Fakes::new();
    fakes.flags.set(Flag::SmsReminders, false);

    let current = fakes.use_cases().switchboard.current();

    assert_eq!(
        current,
        values(&[
            (Flag::RuleEngine, true),
            (Flag::ComplianceEnforcement, true),
            (Flag::AiChat, true),
            (Flag::SmsReminders, false),
        ])
    );
}

#[tokio::test]
async fn a_reload_applies_what_another_instance_stored() {
    let fakes = Fakes::new();
    let switchboard = fakes.use_cases().switchboard;
    switchboard.start(&all(true)).await.unwrap();
    // Another instance switches reminders off.
    fakes.flag_store.insert(Flag::SmsReminders, false, START);

    let reloaded = switchboard.reload().await.unwrap();

    assert!(!reloaded[&Flag::SmsReminders]);
    assert!(!fakes.flags.is_enabled(Flag::SmsReminders));
    assert!(fakes.flags.is_enabled(Flag::AiChat));
}

#[tokio::test]
async fn a_flag_never_stored_keeps_its_value_in_memory_on_reload() {
    let fakes = Fakes::new();
    fakes.flags.set(Flag::RuleEngine, false);
    fakes.flag_store.insert(Flag::AiChat, false, START);

    let reloaded = fakes.use_cases().switchboard.reload().await.unwrap();

    assert!(!reloaded[&Flag::RuleEngine]);
    assert!(!reloaded[&Flag::AiChat]);
    assert!(reloaded[&Flag::SmsReminders]);
}

#[tokio::test]
async fn a_failed_reload_keeps_the_values_in_memory() {
    let fakes = Fakes::new();
    fakes.flag_store.insert(Flag::AiChat, false, START);
    fakes.outage.begin();

    let failed = fakes.use_cases().switchboard.reload().await;

    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
    assert!(fakes.flags.is_enabled(Flag::AiChat));
}

#[tokio::test]
async fn a_change_is_stored_now_applied_at_once_and_answers_what_it_replaced() {
    let fakes = Fakes::new();
    let switchboard = fakes.use_cases().switchboard;
    switchboard.start(&all(true)).await.unwrap();
    fakes.clock.advance(TimeDelta::minutes(10));
    let now = START + TimeDelta::minutes(10);

    let (replaced, after) = switchboard
        .change(&values(&[(Flag::AiChat, false), (Flag::RuleEngine, false)]))
        .await
        .unwrap();

    assert_eq!(
        replaced,
        values(&[(Flag::AiChat, true), (Flag::RuleEngine, true)])
    );
    assert_eq!(
        after,
        values(&[
            (Flag::RuleEngine, false),
            (Flag::ComplianceEnforcement, true),
            (Flag::AiChat, false),
            (Flag::SmsReminders, true),
        ])
    );
    assert_eq!(fakes.flags.values(), after);
    let rows = fakes.flag_store.rows();
    assert_eq!(
        rows[&Flag::AiChat],
        StoredFlag {
            enabled: false,
            updated_at: now
        }
    );
    assert_eq!(rows[&Flag::SmsReminders].updated_at, START);
}

#[tokio::test]
async fn a_flag_never_stored_is_absent_from_what_a_change_replaced() {
    let fakes = Fakes::new();

    let (replaced, after) = fakes
        .use_cases()
        .switchboard
        .change(&values(&[(Flag::SmsReminders, false)]))
        .await
        .unwrap();

    assert!(replaced.is_empty());
    assert!(!after[&Flag::SmsReminders]);
    assert!(!fakes.flag_store.rows()[&Flag::SmsReminders].enabled);
}

#[tokio::test]
async fn an_empty_change_touches_nothing_even_during_an_outage() {
    let fakes = Fakes::new();
    fakes.outage.begin();

    let (replaced, after) = fakes
        .use_cases()
        .switchboard
        .change(&FlagValues::new())
        .await
        .unwrap();

    assert!(replaced.is_empty());
    assert_eq!(after, all(true));
    assert!(fakes.flag_store.rows().is_empty());
}

#[tokio::test]
async fn a_failed_change_changes_nothing() {
    let fakes = Fakes::new();
    let switchboard = fakes.use_cases().switchboard;
    switchboard.start(&all(true)).await.unwrap();
    fakes.outage.begin();

    let failed = switchboard
        .change(&values(&[(Flag::ComplianceEnforcement, false)]))
        .await;

    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
    assert!(fakes.flags.is_enabled(Flag::ComplianceEnforcement));
    assert!(fakes.flag_store.rows()[&Flag::ComplianceEnforcement].enabled);
}

// --- idempotency --------------------------------------------------------------------------

#[tokio::test]
async fn a_new_key_is_claimed_and_kept_for_a_day() {
    let fakes = Fakes::new();

    let claim = fakes
        .use_cases()
        .idempotency
        .claim(user(1), &key("key-1"), "hash-a")
        .await
        .unwrap();

    assert_eq!(claim, KeyClaim::Claimed);
    assert_eq!(
        fakes.idempotency.get(user(1), "key-1").unwrap(),
        IdempotencyRecord {
            request_hash: "hash-a".to_owned(),
            response: None,
            created_at: START,
            expires_at: START + TimeDelta::hours(24),
        }
    );
}

#[tokio::test]
async fn a_retry_while_the_first_request_runs_is_in_progress_whatever_its_body() {
    let fakes = Fakes::new();
    let idempotency = fakes.use_cases().idempotency;
    idempotency
        .claim(user(1), &key("key-1"), "hash-a")
        .await
        .unwrap();

    for hash in ["hash-a", "hash-b"] {
        let claim = idempotency
            .claim(user(1), &key("key-1"), hash)
            .await
            .unwrap();
        assert_eq!(claim, KeyClaim::InProgress, "{hash}");
    }
}

#[tokio::test]
async fn a_completed_key_replays_its_response_to_the_same_request_and_refuses_another() {
    let fakes = Fakes::new();
    let idempotency = fakes.use_cases().idempotency;
    idempotency
        .claim(user(1), &key("key-1"), "hash-a")
        .await
        .unwrap();

    idempotency
        .complete(user(1), &key("key-1"), &created())
        .await
        .unwrap();

    assert_eq!(
        idempotency
            .claim(user(1), &key("key-1"), "hash-a")
            .await
            .unwrap(),
        KeyClaim::Completed(created())
    );
    assert_eq!(
        idempotency
            .claim(user(1), &key("key-1"), "hash-b")
            .await
            .unwrap(),
        KeyClaim::Mismatch
    );
}

#[tokio::test]
async fn a_key_never_replays_another_users_response() {
    let fakes = Fakes::new();
    let idempotency = fakes.use_cases().idempotency;
    idempotency
        .claim(user(1), &key("key-1"), "hash-a")
        .await
        .unwrap();
    idempotency
        .complete(user(1), &key("key-1"), &created())
        .await
        .unwrap();

    let claim = idempotency
        .claim(user(2), &key("key-1"), "hash-a")
        .await
        .unwrap();

    assert_eq!(claim, KeyClaim::Claimed);
    assert_eq!(fakes.idempotency.len(), 2);
}

#[tokio::test]
async fn a_response_is_replayed_for_24_hours_and_then_the_key_runs_again() {
    let fakes = Fakes::new();
    let idempotency = fakes.use_cases().idempotency;
    idempotency
        .claim(user(1), &key("key-1"), "hash-a")
        .await
        .unwrap();
    idempotency
        .complete(user(1), &key("key-1"), &created())
        .await
        .unwrap();

    fakes
        .clock
        .advance(TimeDelta::hours(24) - TimeDelta::seconds(1));
    assert_eq!(
        idempotency
            .claim(user(1), &key("key-1"), "hash-a")
            .await
            .unwrap(),
        KeyClaim::Completed(created())
    );
    fakes.clock.advance(TimeDelta::seconds(1));
    assert_eq!(
        idempotency
            .claim(user(1), &key("key-1"), "hash-b")
            .await
            .unwrap(),
        KeyClaim::Claimed
    );
    let record = fakes.idempotency.get(user(1), "key-1").unwrap();
    assert_eq!(record.request_hash, "hash-b");
    assert_eq!(record.response, None);
    assert_eq!(record.created_at, START + TimeDelta::hours(24));
}

#[tokio::test]
async fn a_claim_abandoned_for_15_minutes_is_taken_over() {
    let fakes = Fakes::new();
    let idempotency = fakes.use_cases().idempotency;
    idempotency
        .claim(user(1), &key("key-1"), "hash-a")
        .await
        .unwrap();

    fakes
        .clock
        .advance(TimeDelta::minutes(15) - TimeDelta::seconds(1));
    assert_eq!(
        idempotency
            .claim(user(1), &key("key-1"), "hash-a")
            .await
            .unwrap(),
        KeyClaim::InProgress
    );
    fakes.clock.advance(TimeDelta::seconds(1));
    assert_eq!(
        idempotency
            .claim(user(1), &key("key-1"), "hash-a")
            .await
            .unwrap(),
        KeyClaim::Claimed
    );
    assert_eq!(
        fakes.idempotency.get(user(1), "key-1").unwrap().created_at,
        START + TimeDelta::minutes(15)
    );
}

#[tokio::test]
async fn a_released_claim_runs_again_and_a_completed_key_is_not_released() {
    let fakes = Fakes::new();
    let idempotency = fakes.use_cases().idempotency;
    idempotency
        .claim(user(1), &key("failed"), "hash-a")
        .await
        .unwrap();
    idempotency
        .claim(user(1), &key("done"), "hash-a")
        .await
        .unwrap();
    idempotency
        .complete(user(1), &key("done"), &created())
        .await
        .unwrap();

    idempotency.release(user(1), &key("failed")).await.unwrap();
    idempotency.release(user(1), &key("done")).await.unwrap();

    assert_eq!(fakes.idempotency.get(user(1), "failed"), None);
    assert_eq!(
        idempotency
            .claim(user(1), &key("failed"), "hash-a")
            .await
            .unwrap(),
        KeyClaim::Claimed
    );
    assert_eq!(
        idempotency
            .claim(user(1), &key("done"), "hash-a")
            .await
            .unwrap(),
        KeyClaim::Completed(created())
    );
}

#[tokio::test]
async fn idempotency_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let idempotency = fakes.use_cases().idempotency;
    fakes.outage.begin();

    let claim = idempotency.claim(user(1), &key("key-1"), "hash-a").await;
    let complete = idempotency
        .complete(user(1), &key("key-1"), &created())
        .await;
    let release = idempotency.release(user(1), &key("key-1")).await;

    assert!(
        matches!(claim, Err(StoreError::Unavailable(_))),
        "{claim:?}"
    );
    assert!(
        matches!(complete, Err(StoreError::Unavailable(_))),
        "{complete:?}"
    );
    assert!(
        matches!(release, Err(StoreError::Unavailable(_))),
        "{release:?}"
    );
    assert!(fakes.idempotency.is_empty());
}

// --- retention ----------------------------------------------------------------------------

/// An idempotency record of `user` created at `at`.
fn keep(fakes: &Fakes, user: UserId, key: &str, at: DateTime<Utc>) {
    fakes.idempotency.insert(
        user,
        key,
        IdempotencyRecord {
            request_hash: "hash".to_owned(),
            response: Some(created()),
            created_at: at,
            expires_at: at + TimeDelta::hours(24),
        },
    );
}

#[tokio::test]
async fn the_daily_run_removes_what_is_past_the_cutoffs_once_a_day() {
    let mut fakes = Fakes::new();
    let cutoffs_seen = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&cutoffs_seen);
    fakes.retention = fakes.retention.clone().purging_with(move |cutoffs| {
        seen.lock().unwrap().push(*cutoffs);
        RetentionReport {
            inbound_sms: 3,
            sms_bodies: 4,
            ..RetentionReport::default()
        }
    });
    keep(&fakes, user(1), "old", START - TimeDelta::hours(25));
    keep(&fakes, user(1), "fresh", START - TimeDelta::hours(23));
    let retention = fakes.use_cases().retention;

    let report = retention.run_daily().await.unwrap();

    assert_eq!(
        report,
        Some(RetentionReport {
            idempotency_keys: 1,
            refresh_tokens: 0,
            inbound_sms: 3,
            sms_bodies: 4,
        })
    );
    assert_eq!(fakes.idempotency.get(user(1), "old"), None);
    assert!(fakes.idempotency.get(user(1), "fresh").is_some());
    assert_eq!(fakes.retention.purges(), [RetentionCutoffs::at(START)]);
    assert_eq!(*cutoffs_seen.lock().unwrap(), [RetentionCutoffs::at(START)]);
    assert_eq!(
        fakes.retention.runs(),
        [JobRun {
            job: RETENTION_JOB.to_owned(),
            day: START.date_naive(),
            ran_at: START,
        }]
    );

    // Later the same day (UTC), on any instance: nothing runs.
    fakes
        .clock
        .advance(TimeDelta::hours(23) + TimeDelta::minutes(59));
    assert_eq!(retention.run_daily().await.unwrap(), None);
    assert_eq!(fakes.use_cases().retention.run_daily().await.unwrap(), None);
    assert_eq!(fakes.retention.purges().len(), 1);

    // The next day it runs again.
    fakes.clock.advance(TimeDelta::minutes(1));
    let next = retention.run_daily().await.unwrap();
    assert!(next.is_some());
    assert_eq!(fakes.retention.runs().len(), 2);
    assert_eq!(
        fakes.retention.purges()[1],
        RetentionCutoffs::at(START + TimeDelta::days(1))
    );
    assert_eq!(fakes.idempotency.get(user(1), "fresh"), None);
}

#[tokio::test]
async fn the_daily_run_during_an_outage_fails_and_claims_nothing() {
    let fakes = Fakes::new();
    fakes.outage.begin();

    let failed = fakes.use_cases().retention.run_daily().await;

    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
    assert!(fakes.retention.runs().is_empty());
    assert!(fakes.retention.purges().is_empty());
    fakes.outage.end();
    assert!(
        fakes
            .use_cases()
            .retention
            .run_daily()
            .await
            .unwrap()
            .is_some()
    );
}

// --- failures -----------------------------------------------------------------------------

#[test]
fn a_store_that_cannot_be_reached_is_unavailable_and_any_other_store_failure_unexpected() {
    let unavailable = Failure::from(StoreError::Unavailable("pool exhausted".into()));
    let unexpected = Failure::from(StoreError::Unexpected("constraint".into()));

    assert!(
        matches!(unavailable, Failure::Unavailable(_)),
        "{unavailable:?}"
    );
    assert_eq!(unavailable.source().unwrap().to_string(), "pool exhausted");
    assert!(
        matches!(unexpected, Failure::Unexpected(_)),
        "{unexpected:?}"
    );
    assert_eq!(
        unexpected.source().unwrap().to_string(),
        "the data store failed"
    );
    assert_eq!(unavailable.to_string(), "a dependency is unavailable");
    assert_eq!(unexpected.to_string(), "unexpected failure");
}

#[test]
fn a_busy_hasher_is_hashing_busy_and_a_failed_one_unexpected() {
    let busy = Failure::from(HasherError::Busy);
    let failed = Failure::from(HasherError::Failed("worker died".into()));

    assert!(matches!(busy, Failure::HashingBusy), "{busy:?}");
    assert_eq!(busy.to_string(), "password hashing is at capacity");
    assert!(matches!(failed, Failure::Unexpected(_)), "{failed:?}");
    assert_eq!(
        failed.source().unwrap().to_string(),
        "password hashing failed: worker died"
    );
}

#[test]
fn an_unexpected_failure_keeps_its_cause() {
    let failure = Failure::unexpected(std::fmt::Error);

    assert!(matches!(failure, Failure::Unexpected(_)), "{failure:?}");
    assert_eq!(
        failure.source().unwrap().to_string(),
        std::fmt::Error.to_string()
    );
}

#[test]
fn a_use_case_error_keeps_an_outage_typed() {
    let chat = ChatError::from(StoreError::Unavailable("down".into()));
    let garden = GardenError::from(HasherError::Busy);
    let planting = CreatePlantingError::from(StoreError::Unexpected("bug".into()));

    assert!(
        matches!(chat, ChatError::Failed(Failure::Unavailable(_))),
        "{chat:?}"
    );
    assert!(
        matches!(garden, GardenError::Failed(Failure::HashingBusy)),
        "{garden:?}"
    );
    assert!(
        matches!(
            planting,
            CreatePlantingError::Failed(Failure::Unexpected(_))
        ),
        "{planting:?}"
    );
    assert_eq!(chat.to_string(), "a dependency is unavailable");
}

// --- the stop signal ----------------------------------------------------------------------

#[test]
fn a_stop_signal_starts_lowered_and_once_raised_is_seen_by_every_holder() {
    let signal = StopSignal::new();
    let worker = signal.clone();
    assert!(!signal.is_raised());
    assert!(!StopSignal::default().is_raised());

    signal.raise();

    assert!(worker.is_raised());
    assert!(signal.is_raised());
    assert!(!StopSignal::new().is_raised());
}

#[test]
fn the_composed_use_cases_hand_out_one_stop_signal_per_composition() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let held = use_cases.stop.clone();

    use_cases.stop.raise();

    assert!(held.is_raised());
    assert!(!fakes.use_cases().stop.is_raised());
}

// --- the composition ----------------------------------------------------------------------

#[tokio::test]
async fn a_flag_changed_through_the_switchboard_reaches_every_use_case_at_once() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let me = owner(1);
    let plot = garden(&use_cases, me).await;

    use_cases
        .switchboard
        .change(&values(&[
            (Flag::RuleEngine, false),
            (Flag::ComplianceEnforcement, false),
        ]))
        .await
        .unwrap();

    assert!(!use_cases.flags.is_enabled(Flag::RuleEngine));
    assert!(!fakes.flags.is_enabled(Flag::RuleEngine));
    let analysis = use_cases.gardens.analyse(me, plot).await.unwrap();
    assert_eq!(analysis.note, Some(RULE_ENGINE_OFF));
    let kudzu = use_cases
        .gardens
        .add_planting(me, plot, at_origin(sample::KUDZU))
        .await;
    assert!(kudzu.is_ok(), "{kudzu:?}");
}

#[tokio::test]
async fn every_use_case_counts_into_one_metrics_registry() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let me = owner(1);
    let fern = use_cases
        .plants
        .create(
            me,
            NewPlant {
                catalog_plant_id: sample::BASIL,
                nickname: Nickname::parse("Basil").unwrap(),
                personality: None,
            },
        )
        .await
        .unwrap();
    let plot = garden(&use_cases, me).await;

    use_cases
        .conversations
        .chat(
            me,
            fern.plant.id,
            &ChatText::parse("hello").unwrap(),
            Channel::Web,
        )
        .await
        .unwrap();
    let refused = use_cases
        .gardens
        .add_planting(me, plot, at_origin(sample::KUDZU))
        .await;
    assert!(matches!(
        refused,
        Err(CreatePlantingError::Restricted { .. })
    ));

    let snapshot = use_cases.metrics.snapshot();
    assert!(snapshot.ai_requests.contains(&(AiOutcome::Success, 1)));
    assert!(
        snapshot
            .compliance_violations
            .contains(&(ComplianceAction::Blocked, 1))
    );
}

#[tokio::test]
async fn every_use_case_reads_one_clock_and_draws_from_one_id_sequence() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let me = owner(1);
    fakes.clock.advance(TimeDelta::hours(1));

    let plot = garden(&use_cases, me).await;
    let plant = use_cases
        .plants
        .create(
            me,
            NewPlant {
                catalog_plant_id: sample::BASIL,
                nickname: Nickname::parse("Basil").unwrap(),
                personality: None,
            },
        )
        .await
        .unwrap();

    assert_eq!(plot.as_uuid(), SequentialIds::nth(1));
    assert_eq!(plant.plant.id.as_uuid(), SequentialIds::nth(2));
    assert_eq!(plant.plant.created_at, START + TimeDelta::hours(1));
    assert_eq!(
        fakes.gardens.get(plot).unwrap().created_at,
        START + TimeDelta::hours(1)
    );
}

#[tokio::test]
async fn rate_limiting_is_on_with_rate_limit_stores_and_off_without() {
    let fakes = Fakes::new();
    let mut adapters = fakes.adapters();
    adapters.rate_limits = None;

    let without = compose(adapters, tunables());

    assert!(without.rate_limiter.is_none());
    assert!(fakes.use_cases().rate_limiter.is_some());
}

#[tokio::test]
async fn without_a_chat_model_conversations_answer_from_templates_whatever_the_flag() {
    let fakes = Fakes::new();
    let mut adapters = fakes.adapters();
    adapters.chat_model = None;
    let use_cases = compose(adapters, tunables());
    let me = owner(1);
    let plant = use_cases
        .plants
        .create(
            me,
            NewPlant {
                catalog_plant_id: sample::BASIL,
                nickname: Nickname::parse("Basil").unwrap(),
                personality: None,
            },
        )
        .await
        .unwrap();

    let reply = use_cases
        .conversations
        .chat(
            me,
            plant.plant.id,
            &ChatText::parse("hello").unwrap(),
            Channel::Web,
        )
        .await
        .unwrap();

    assert!(use_cases.flags.is_enabled(Flag::AiChat));
    assert_eq!(reply.source, domain::chat::ReplySource::Fallback);
    assert_eq!(fakes.chat_model.calls(), 0);
}

#[test]
fn the_composition_names_its_parts_without_their_adapters() {
    let fakes = Fakes::new();
    let adapters = fakes.adapters();
    let use_cases = fakes.use_cases();

    assert_eq!(format!("{adapters:?}"), "Adapters { .. }");
    assert_eq!(format!("{:?}", adapters.stores), "Stores { .. }");
    assert_eq!(
        format!("{:?}", adapters.rate_limits.unwrap()),
        "RateLimitStores { .. }"
    );
    assert_eq!(format!("{use_cases:?}"), "UseCases { .. }");
    assert!(format!("{:?}", tunables()).contains("sms_caps"));
    for (debug, name) in [
        (format!("{:?}", use_cases.plants), "Plants"),
        (format!("{:?}", use_cases.conversations), "Conversations"),
        (format!("{:?}", use_cases.gardens), "Gardens"),
        (format!("{:?}", use_cases.catalog), "Catalog"),
        (format!("{:?}", use_cases.switchboard), "Switchboard"),
        (format!("{:?}", use_cases.idempotency), "Idempotency"),
        (format!("{:?}", use_cases.retention), "Retention"),
        (
            format!("{:?}", plant_ports(&fakes, &use_cases)),
            "PlantPorts",
        ),
        (
            format!("{:?}", conversation_ports(&fakes, &use_cases)),
            "ConversationPorts",
        ),
        (
            format!("{:?}", garden_ports(&fakes, &use_cases)),
            "GardenPorts",
        ),
    ] {
        assert_eq!(debug, format!("{name} {{ .. }}"));
    }
}

fn plant_ports(fakes: &Fakes, use_cases: &UseCases) -> PlantPorts {
    PlantPorts {
        plants: Arc::new(fakes.plants.clone()),
        catalog: use_cases.catalog.clone(),
        clock: Arc::new(fakes.clock.clone()),
        ids: Arc::new(fakes.ids.clone()),
    }
}

fn conversation_ports(fakes: &Fakes, use_cases: &UseCases) -> ConversationPorts {
    ConversationPorts {
        plants: Arc::new(fakes.plants.clone()),
        messages: Arc::new(fakes.messages.clone()),
        catalog: use_cases.catalog.clone(),
        model: None,
        flags: Arc::new(fakes.flags.clone()),
        clock: Arc::new(fakes.clock.clone()),
        ids: Arc::new(fakes.ids.clone()),
    }
}

fn garden_ports(fakes: &Fakes, use_cases: &UseCases) -> GardenPorts {
    GardenPorts {
        gardens: Arc::new(fakes.gardens.clone()),
        plantings: Arc::new(fakes.plantings.clone()),
        compliance: Arc::new(fakes.compliance.clone()),
        catalog: use_cases.catalog.clone(),
        flags: Arc::new(fakes.flags.clone()),
        clock: Arc::new(fakes.clock.clone()),
        ids: Arc::new(fakes.ids.clone()),
    }
}

#[test]
fn every_flag_goes_by_its_stored_name() {
    let names: Vec<&str> = Flag::ALL.into_iter().map(Flag::as_str).collect();

    assert_eq!(
        names,
        [
            "rule_engine",
            "compliance_enforcement",
            "ai_chat",
            "sms_reminders"
        ]
    );
    for flag in Flag::ALL {
        assert_eq!(Flag::parse(flag.as_str()), Some(flag));
    }
    assert_eq!(Flag::parse("dark_mode"), None);
    assert_eq!(Flag::parse("AI_CHAT"), None);
}

#[test]
fn an_idempotency_key_is_one_to_255_visible_ascii_characters() {
    for text in [
        "a",
        "0b6f6f8e-1a2b-4c3d-9e8f-001122334455",
        &"k".repeat(255),
    ] {
        assert_eq!(IdempotencyKey::parse(text).unwrap().as_str(), text);
    }
    for text in ["", &"k".repeat(256), "with space", "tab\there", "caf\u{e9}"] {
        assert!(IdempotencyKey::parse(text).is_err(), "{text:?}");
    }
}
