//! The SMS channel around the outbox, over the fakes: texts from owners (keywords, the plant
//! they name, each message processed once), watering reminders (the `sms_reminders` flag,
//! exactly once), phone verification (codes, tries, expiry, hourly limits) and the webhook gate.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use domain::{
    catalog::{CatalogPlantId, Light, PersonalityKey},
    chat::{Channel, Direction, Message},
    identity::{Email, FullName, PasswordHash, Role, TenantId, User, UserId},
    phone::PhoneNumber,
    plants::{Nickname, UserPlant, UserPlantId},
    sms::{
        Recipient, SmsBody, SmsLogId, SmsPurpose, SmsStatus,
        verification::{CODE_LIFETIME, VerificationCode},
    },
};
use plant_texts_application::{
    compose::UseCases,
    failure::Failure,
    flags::{FeatureFlags, Flag},
    identity::Principal,
    paging::{Page, PageRequest},
    plants::{
        CatalogSummary, OwnedPlant, Owner,
        ports::{PlantColumns, UserPlantRepository},
    },
    sms::{
        ConfirmPhoneError, InboundPorts, InboundSmsError, InboundTexts, IncomingSms,
        PhoneVerification, PhoneVerificationPorts, ReminderError, ReminderPorts, Reminders,
        RequestCodeError, SignedRequest, SmsCaps, SmsOutbox, SmsOutboxPorts, WebhookGate,
        WebhookRefused,
        inbound::{
            HELP_REPLY, NO_PLANT_REPLY, OPTED_IN_REPLY, OPTED_OUT_REPLY, UNKNOWN_NUMBER_REPLY,
            UNREADABLE_REPLY,
        },
        ports::{CodeCheck, NewVerification, ReminderQueue, VerificationCodes},
    },
    store::StoreError,
    system::{Clock, StopSignal},
    testing::{
        ACCOUNT_SID, Fakes, Outage,
        chat::FIXED_REPLY,
        plants::InMemoryUserPlants,
        sms::{
            FAKE_SENDER_NUMBER, FakeReminderTexts, InMemorySmsLog, InMemoryVerificationCodes,
            InboundRecord, SmsLogRecord, VALID_SIGNATURE,
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

/// The `n`-th account (of its own tenant).
fn owner(n: u128) -> Owner {
    Owner {
        tenant_id: TenantId::from_uuid(Uuid::from_u128(1_000 + n)),
        user_id: UserId::from_uuid(Uuid::from_u128(n)),
    }
}

/// The `n`-th account texting from `phone(n)`: verified and opted in.
fn texter(fakes: &Fakes, n: u32) -> Owner {
    let owner = owner(u128::from(n));
    let recipient = Recipient {
        is_active: true,
        phone: Some(phone(n)),
        phone_verified: true,
        sms_opt_in: true,
    };
    assert!(fakes.sms_accounts.add(owner, recipient));
    owner
}

/// Gives `owner` a plant named `nickname` with `personality`, watered every week, its reminder
/// due at `due`; plant ids grow with `n`, so a later `n` is a newer plant.
fn plant(
    fakes: &Fakes,
    owner: Owner,
    n: u128,
    nickname: &str,
    personality: &str,
    due: Option<DateTime<Utc>>,
) -> UserPlantId {
    let id = UserPlantId::from_uuid(Uuid::from_u128(10_000 + n));
    let species = CatalogSummary {
        id: CatalogPlantId::from_uuid(Uuid::from_u128(20_000)),
        common_name: "Boston fern".to_owned(),
        scientific_name: "Nephrolepis exaltata".to_owned(),
        watering_interval_days: 7,
        light: Light::Medium,
    };
    fakes.plants.insert(OwnedPlant {
        plant: UserPlant {
            id,
            tenant_id: owner.tenant_id,
            owner: owner.user_id,
            catalog_plant_id: species.id,
            nickname: Nickname::parse(nickname).unwrap(),
            personality: PersonalityKey::parse(personality).unwrap(),
            last_watered_at: None,
            next_reminder_at: due,
            is_active: true,
            created_at: START,
            updated_at: START,
        },
        catalog: species,
    });
    id
}

/// A plant whose personality the catalog does not know: nothing can be written in its name.
const UNKNOWN_PERSONALITY: &str = "shy_violet";

fn incoming(message_sid: &str, from: &PhoneNumber, body: &str) -> IncomingSms {
    IncomingSms {
        message_sid: message_sid.to_owned(),
        from: from.clone(),
        body: body.to_owned(),
    }
}

/// `(direction, channel, body)` of each message of the plant's conversation, oldest first.
fn conversation(
    fakes: &Fakes,
    owner: Owner,
    plant: UserPlantId,
) -> Vec<(Direction, Channel, String)> {
    fakes
        .messages
        .conversation(owner.tenant_id, plant)
        .into_iter()
        .map(|message| (message.direction, message.channel, message.body))
        .collect()
}

fn failure_of_inbound(error: InboundSmsError) -> Failure {
    error.0
}

/// The `n`-th member, with `phone` set and not verified (in the accounts and as the SMS channel
/// reads them), signed in.
fn member(fakes: &Fakes, n: u32, phone: Option<PhoneNumber>) -> Principal {
    let owner = owner(u128::from(n));
    fakes.identity.users().insert(User {
        id: owner.user_id,
        tenant_id: owner.tenant_id,
        email: Email::parse(&format!("member{n}@example.com")).unwrap(),
        full_name: FullName::parse("Ada Lovelace").unwrap(),
        phone: phone.clone(),
        phone_verified: false,
        password_hash: PasswordHash::new("$fake$hash"),
        role: Role::Member,
        is_active: true,
        sms_opt_in: false,
        flagged: false,
        token_version: 0,
        tokens_valid_after: None,
        created_at: START,
        updated_at: START,
        last_login_at: None,
    });
    if phone.is_some() {
        fakes.sms_accounts.add(
            owner,
            Recipient {
                is_active: true,
                phone,
                phone_verified: false,
                sms_opt_in: false,
            },
        );
    }
    Principal {
        user_id: owner.user_id,
        tenant_id: owner.tenant_id,
        role: Role::Member,
    }
}

/// The code the fake generates `n`-th (from 0).
fn code(n: u32) -> VerificationCode {
    VerificationCode::from_number(123_456 + n)
}

/// The member's number as the accounts store has it: `(number, verified)`.
fn number_of(fakes: &Fakes, principal: &Principal) -> (Option<PhoneNumber>, bool) {
    let user = fakes.identity.users().get(principal.user_id).unwrap();
    (user.phone, user.phone_verified)
}

/// Verification codes that let a test act between the use case's steps: after a code is
/// stored, and when a code is tried.
struct Meddling {
    codes: InMemoryVerificationCodes,
    after_store: Box<dyn Fn() + Send + Sync>,
    on_try: Box<dyn Fn() + Send + Sync>,
}

impl Meddling {
    fn new(fakes: &Fakes) -> Self {
        Self {
            codes: fakes.verification_codes.clone(),
            after_store: Box::new(|| {}),
            on_try: Box::new(|| {}),
        }
    }
}

#[async_trait]
impl VerificationCodes for Meddling {
    fn generate(&self) -> VerificationCode {
        self.codes.generate()
    }

    async fn sent_since(
        &self,
        user: UserId,
        phone: &PhoneNumber,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        self.codes.sent_since(user, phone, since).await
    }

    async fn store(&self, verification: &NewVerification) -> Result<(), StoreError> {
        self.codes.store(verification).await?;
        (self.after_store)();
        Ok(())
    }

    async fn try_code(
        &self,
        user: UserId,
        phone: &PhoneNumber,
        code: &VerificationCode,
        now: DateTime<Utc>,
        tries: u32,
    ) -> Result<CodeCheck, StoreError> {
        (self.on_try)();
        self.codes.try_code(user, phone, code, now, tries).await
    }
}

/// Phone verification over the fakes, with `codes` for the verification codes.
fn verification_with(fakes: &Fakes, use_cases: &UseCases, codes: Meddling) -> PhoneVerification {
    PhoneVerification::new(PhoneVerificationPorts {
        users: Arc::new(fakes.identity.users()),
        codes: Arc::new(codes),
        outbox: use_cases.outbox.clone(),
        clock: Arc::new(fakes.clock.clone()),
        ids: Arc::new(fakes.ids.clone()),
    })
}

/// The owners' plants, where the plant a text names is deleted right after it is found (its
/// owner deleting it at that very moment).
struct DeletedOnceFound(InMemoryUserPlants);

#[async_trait]
impl UserPlantRepository for DeletedOnceFound {
    async fn create(&self, plant: &UserPlant) -> Result<(), StoreError> {
        self.0.create(plant).await
    }

    async fn find(&self, owner: Owner, id: UserPlantId) -> Result<Option<OwnedPlant>, StoreError> {
        self.0.find(owner, id).await
    }

    async fn find_with_recent_messages(
        &self,
        owner: Owner,
        id: UserPlantId,
        count: u64,
    ) -> Result<Option<(OwnedPlant, Vec<Message>)>, StoreError> {
        self.0.find_with_recent_messages(owner, id, count).await
    }

    async fn list(&self, owner: Owner, page: PageRequest) -> Result<Page<OwnedPlant>, StoreError> {
        self.0.list(owner, page).await
    }

    async fn update(&self, plant: &UserPlant, changed: PlantColumns) -> Result<bool, StoreError> {
        self.0.update(plant, changed).await
    }

    async fn find_by_nickname(
        &self,
        owner: Owner,
        nickname: &str,
    ) -> Result<Option<UserPlant>, StoreError> {
        let found = self.0.find_by_nickname(owner, nickname).await?;
        if let Some(plant) = &found {
            self.0.delete(owner, plant.id).await?;
        }
        Ok(found)
    }

    async fn most_recent(&self, owner: Owner) -> Result<Option<UserPlant>, StoreError> {
        self.0.most_recent(owner).await
    }

    async fn delete(&self, owner: Owner, id: UserPlantId) -> Result<bool, StoreError> {
        self.0.delete(owner, id).await
    }
}

// --- Inbound texts ------------------------------------------------------------------------

#[tokio::test]
async fn a_text_naming_a_plant_is_answered_by_that_plant() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    let fern = plant(&fakes, ada, 1, "Fern", "chill_friend", None);
    let basil = plant(&fakes, ada, 2, "Basil", "chill_friend", None);

    let reply = use_cases
        .inbound_texts
        .receive(&incoming("SM1", &phone(1), " fern : how are you?"))
        .await
        .unwrap();

    assert_eq!(reply, Some(format!("Fern: {FIXED_REPLY}")));
    assert_eq!(
        conversation(&fakes, ada, fern),
        vec![
            (Direction::Inbound, Channel::Sms, "how are you?".to_owned()),
            (Direction::Outbound, Channel::Sms, FIXED_REPLY.to_owned()),
        ]
    );
    assert!(conversation(&fakes, ada, basil).is_empty());
    let record = fakes.inbound_log.get("SM1").unwrap();
    assert_eq!(record.sender, Some(ada.user_id));
    assert_eq!(record.reply, reply);
    assert_eq!(record.received_at, START);
}

#[tokio::test]
async fn a_text_naming_no_plant_goes_to_the_plant_talked_to_last() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    let fern = plant(&fakes, ada, 1, "Fern", "chill_friend", None);
    plant(&fakes, ada, 2, "Basil", "chill_friend", None);
    use_cases
        .inbound_texts
        .receive(&incoming("SM1", &phone(1), "Fern: hello"))
        .await
        .unwrap();

    let reply = use_cases
        .inbound_texts
        .receive(&incoming("SM2", &phone(1), "  are you thirsty?  "))
        .await
        .unwrap();

    assert_eq!(reply, Some(format!("Fern: {FIXED_REPLY}")));
    let fern_heard: Vec<String> = conversation(&fakes, ada, fern)
        .into_iter()
        .filter(|(direction, ..)| *direction == Direction::Inbound)
        .map(|(.., body)| body)
        .collect();
    assert_eq!(fern_heard, ["hello", "are you thirsty?"]);
}

#[tokio::test]
async fn a_text_to_an_owner_who_never_talked_to_a_plant_goes_to_the_newest() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    plant(&fakes, ada, 1, "Fern", "chill_friend", None);
    let basil = plant(&fakes, ada, 2, "Basil", "chill_friend", None);

    let reply = use_cases
        .inbound_texts
        .receive(&incoming("SM1", &phone(1), "Rose: hi"))
        .await
        .unwrap();

    assert_eq!(reply, Some(format!("Basil: {FIXED_REPLY}")));
    assert_eq!(
        conversation(&fakes, ada, basil)[0].2,
        "Rose: hi",
        "a name no plant has is part of the text"
    );
}

#[tokio::test]
async fn an_owner_without_plants_is_told_to_add_one() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    texter(&fakes, 1);

    let reply = use_cases
        .inbound_texts
        .receive(&incoming("SM1", &phone(1), "hello?"))
        .await
        .unwrap();

    assert_eq!(reply.as_deref(), Some(NO_PLANT_REPLY));
    assert_eq!(fakes.chat_model.calls(), 0);
}

#[tokio::test]
async fn a_text_a_plant_cannot_read_is_answered_with_the_limits() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    let fern = plant(&fakes, ada, 1, "Fern", "chill_friend", None);
    let too_long = format!("Fern: {}", "a".repeat(1001));

    for (sid, body) in [("SM1", too_long.as_str()), ("SM2", "   ")] {
        let reply = use_cases
            .inbound_texts
            .receive(&incoming(sid, &phone(1), body))
            .await
            .unwrap();
        assert_eq!(reply.as_deref(), Some(UNREADABLE_REPLY), "{sid}");
    }

    assert!(conversation(&fakes, ada, fern).is_empty());
    assert_eq!(fakes.chat_model.calls(), 0);
}

#[tokio::test]
async fn stop_opts_the_owner_out_and_start_opts_them_back_in() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    plant(&fakes, ada, 1, "Fern", "chill_friend", None);

    let stopped = use_cases
        .inbound_texts
        .receive(&incoming("SM1", &phone(1), " stop "))
        .await
        .unwrap();
    assert_eq!(stopped.as_deref(), Some(OPTED_OUT_REPLY));
    let account = fakes.sms_accounts.account(ada.user_id).unwrap();
    assert!(!account.recipient.sms_opt_in);
    assert_eq!(account.updated_at, Some(START));

    fakes.clock.advance(TimeDelta::minutes(1));
    let started = use_cases
        .inbound_texts
        .receive(&incoming("SM2", &phone(1), "Start"))
        .await
        .unwrap();
    assert_eq!(started.as_deref(), Some(OPTED_IN_REPLY));
    let account = fakes.sms_accounts.account(ada.user_id).unwrap();
    assert!(account.recipient.sms_opt_in);
    assert_eq!(account.updated_at, Some(START + TimeDelta::minutes(1)));
    assert_eq!(fakes.chat_model.calls(), 0, "no plant was texted");
}

#[tokio::test]
async fn help_is_answered_without_touching_the_account() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);

    let reply = use_cases
        .inbound_texts
        .receive(&incoming("SM1", &phone(1), "info"))
        .await
        .unwrap();

    assert_eq!(reply.as_deref(), Some(HELP_REPLY));
    let account = fakes.sms_accounts.account(ada.user_id).unwrap();
    assert_eq!(account.updated_at, None);
    assert!(account.recipient.sms_opt_in);
}

#[tokio::test]
async fn a_number_no_verified_account_has_is_told_to_link_it() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let unverified = owner(2);
    assert!(fakes.sms_accounts.add(
        unverified,
        Recipient {
            is_active: true,
            phone: Some(phone(2)),
            phone_verified: false,
            sms_opt_in: true,
        }
    ));

    for (sid, from) in [("SM1", phone(1)), ("SM2", phone(2))] {
        let reply = use_cases
            .inbound_texts
            .receive(&incoming(sid, &from, "STOP"))
            .await
            .unwrap();
        assert_eq!(reply.as_deref(), Some(UNKNOWN_NUMBER_REPLY), "{sid}");
        let record = fakes.inbound_log.get(sid).unwrap();
        assert_eq!(record.sender, None);
        assert_eq!(record.reply, reply);
    }
    assert!(
        fakes
            .sms_accounts
            .account(unverified.user_id)
            .unwrap()
            .recipient
            .sms_opt_in,
        "an unverified number does not speak for the account"
    );
}

#[tokio::test]
async fn a_message_delivered_twice_is_answered_twice_but_processed_once() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    let fern = plant(&fakes, ada, 1, "Fern", "chill_friend", None);
    let sms = incoming("SM1", &phone(1), "Fern: hello");

    let first = use_cases.inbound_texts.receive(&sms).await.unwrap();
    fakes.chat_model.push_reply("a different answer");
    let again = use_cases.inbound_texts.receive(&sms).await.unwrap();

    assert_eq!(first, Some(format!("Fern: {FIXED_REPLY}")));
    assert_eq!(again, first);
    assert_eq!(fakes.chat_model.calls(), 1);
    assert_eq!(conversation(&fakes, ada, fern).len(), 2);
}

#[tokio::test]
async fn a_repeat_while_the_first_delivery_is_processed_gets_no_answer_until_that_is_abandoned() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    plant(&fakes, ada, 1, "Fern", "chill_friend", None);
    fakes.inbound_log.insert(InboundRecord {
        message_sid: "SM1".to_owned(),
        sender: Some(ada.user_id),
        reply: None,
        received_at: START,
    });
    let sms = incoming("SM1", &phone(1), "Fern: hello");

    fakes.clock.advance(TimeDelta::minutes(2));
    assert_eq!(use_cases.inbound_texts.receive(&sms).await.unwrap(), None);
    assert_eq!(fakes.chat_model.calls(), 0);

    fakes.clock.advance(TimeDelta::seconds(1));
    let reply = use_cases.inbound_texts.receive(&sms).await.unwrap();
    assert_eq!(reply, Some(format!("Fern: {FIXED_REPLY}")));
    assert_eq!(fakes.chat_model.calls(), 1);
}

#[tokio::test]
async fn a_text_whose_processing_failed_is_released_so_that_a_retry_is_processed() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    let fern = plant(&fakes, ada, 1, "Fern", UNKNOWN_PERSONALITY, None);
    let sms = incoming("SM1", &phone(1), "Fern: hello");

    let error = use_cases.inbound_texts.receive(&sms).await.unwrap_err();
    assert!(matches!(failure_of_inbound(error), Failure::Unexpected(_)));
    assert_eq!(fakes.inbound_log.get("SM1"), None, "released");
    assert!(conversation(&fakes, ada, fern).is_empty());

    plant(&fakes, ada, 1, "Fern", "chill_friend", None);
    let reply = use_cases.inbound_texts.receive(&sms).await.unwrap();
    assert_eq!(reply, Some(format!("Fern: {FIXED_REPLY}")));
}

#[tokio::test]
async fn a_failure_whose_release_fails_too_is_still_reported() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    plant(&fakes, ada, 1, "Fern", UNKNOWN_PERSONALITY, None);
    fakes.inbound_log.fail_releases(true);
    let sms = incoming("SM1", &phone(1), "Fern: hello");

    let error = use_cases.inbound_texts.receive(&sms).await.unwrap_err();

    assert!(matches!(failure_of_inbound(error), Failure::Unexpected(_)));
    let record = fakes.inbound_log.get("SM1").unwrap();
    assert_eq!(record.reply, None, "still claimed, unanswered");
    assert_eq!(
        use_cases.inbound_texts.receive(&sms).await.unwrap(),
        None,
        "a retry waits until the claim is abandoned"
    );
}

#[tokio::test]
async fn a_text_to_a_plant_deleted_while_it_is_routed_fails_and_is_released() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    plant(&fakes, ada, 1, "Fern", "chill_friend", None);
    let inbound = InboundTexts::new(InboundPorts {
        accounts: Arc::new(fakes.sms_accounts.clone()),
        received: Arc::new(fakes.inbound_log.clone()),
        plants: Arc::new(DeletedOnceFound(fakes.plants.clone())),
        conversations: use_cases.conversations.clone(),
        clock: Arc::new(fakes.clock.clone()),
    });
    let sms = incoming("SM1", &phone(1), "Fern: hello");

    let error = inbound.receive(&sms).await.unwrap_err();

    assert!(matches!(failure_of_inbound(error), Failure::Unexpected(_)));
    assert_eq!(fakes.inbound_log.get("SM1"), None, "released");
    assert_eq!(fakes.chat_model.calls(), 0);
    let retried = use_cases.inbound_texts.receive(&sms).await.unwrap();
    assert_eq!(retried.as_deref(), Some(NO_PLANT_REPLY));
}

#[tokio::test]
async fn an_inbound_text_is_not_processed_while_the_store_is_down() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    plant(&fakes, ada, 1, "Fern", "chill_friend", None);
    fakes.outage.begin();

    let error = use_cases
        .inbound_texts
        .receive(&incoming("SM1", &phone(1), "Fern: hello"))
        .await
        .unwrap_err();

    assert!(matches!(failure_of_inbound(error), Failure::Unavailable(_)));
    assert!(fakes.inbound_log.records().is_empty());
    assert_eq!(fakes.chat_model.calls(), 0);
}

// --- Reminders ----------------------------------------------------------------------------

/// The reminder the chill friend template writes for `nickname`.
fn template_reminder(nickname: &str) -> String {
    format!("{nickname}: No rush, but my soil's getting a bit dry.")
}

#[tokio::test]
async fn a_due_plant_texts_its_owner_once_then_waits_for_its_next_watering() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    let fern = plant(&fakes, ada, 1, "Fern", "chill_friend", Some(START));

    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 1);

    let sent = fakes.sms_sender.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, phone(1));
    assert_eq!(sent[0].body.as_str(), template_reminder("Fern"));
    let entries = fakes.sms_log.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].purpose, SmsPurpose::Reminder);
    assert_eq!(entries[0].plant, Some(fern));
    assert_eq!(entries[0].owner, Some(ada));
    assert_eq!(entries[0].from, FAKE_SENDER_NUMBER);
    assert_eq!(entries[0].status, SmsStatus::Queued);
    assert_eq!(
        conversation(&fakes, ada, fern),
        vec![(
            Direction::Outbound,
            Channel::Sms,
            "No rush, but my soil's getting a bit dry.".to_owned()
        )]
    );
    assert_eq!(
        fakes.plants.get(fern).unwrap().next_reminder_at,
        Some(START + TimeDelta::days(7))
    );

    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 0);
    fakes
        .clock
        .advance(TimeDelta::days(7) - TimeDelta::seconds(1));
    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 0);
    fakes.clock.advance(TimeDelta::seconds(1));
    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 1);
    assert_eq!(fakes.sms_sender.sent().len(), 2);
}

#[tokio::test]
async fn a_reminder_is_written_by_the_chat_model_when_there_is_one() {
    let fakes = Fakes::new().with_chat_model();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    plant(&fakes, ada, 1, "Fern", "chill_friend", Some(START));
    fakes.chat_model.push_reply("Water me, darling.");

    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 1);

    assert_eq!(
        fakes.sms_sender.sent()[0].body.as_str(),
        "Fern: Water me, darling."
    );
}

#[tokio::test]
async fn owners_who_may_not_get_reminders_are_not_reminded() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let (opted_out, unverified) = (owner(1), owner(2));
    for (owner, n, phone_verified, sms_opt_in) in
        [(opted_out, 1, true, false), (unverified, 2, false, true)]
    {
        assert!(fakes.sms_accounts.add(
            owner,
            Recipient {
                is_active: true,
                phone: Some(phone(n)),
                phone_verified,
                sms_opt_in,
            }
        ));
    }
    let one = plant(&fakes, opted_out, 1, "Fern", "chill_friend", Some(START));
    let two = plant(&fakes, unverified, 2, "Basil", "chill_friend", Some(START));
    let (ada, later) = (texter(&fakes, 3), START + TimeDelta::hours(1));
    let not_due = plant(&fakes, ada, 3, "Rose", "chill_friend", Some(later));

    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 0);

    assert!(fakes.sms_log.entries().is_empty());
    assert!(fakes.sms_sender.sent().is_empty());
    for (plant, due) in [(one, START), (two, START), (not_due, later)] {
        assert_eq!(fakes.plants.get(plant).unwrap().next_reminder_at, Some(due));
    }
}

#[tokio::test]
async fn with_the_reminders_flag_off_no_plant_is_claimed_but_the_outbox_still_sends() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    let fern = plant(&fakes, ada, 1, "Fern", "chill_friend", Some(START));
    fakes.sms_log.insert(SmsLogRecord {
        from: FAKE_SENDER_NUMBER.to_owned(),
        body: Some(SmsBody::parse("queued earlier").unwrap()),
        ..SmsLogRecord::pending(
            SmsLogId::from_uuid(Uuid::from_u128(1)),
            phone(9),
            SmsPurpose::Message,
            START,
        )
    });
    fakes.flags.set(Flag::SmsReminders, false);

    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 1);

    let sent = fakes.sms_sender.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body.as_str(), "queued earlier");
    assert_eq!(
        fakes.plants.get(fern).unwrap().next_reminder_at,
        Some(START)
    );

    fakes.flags.set(Flag::SmsReminders, true);
    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 1);
    assert_eq!(
        fakes.sms_sender.sent()[1].body.as_str(),
        template_reminder("Fern")
    );
}

#[tokio::test]
async fn every_due_plant_is_claimed_however_many_there_are() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let mut plants = Vec::new();
    for n in 1..=60 {
        let owner = texter(&fakes, n);
        plants.push(plant(
            &fakes,
            owner,
            u128::from(n),
            "Fern",
            "chill_friend",
            Some(START),
        ));
    }

    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 60);

    assert_eq!(fakes.sms_sender.sent().len(), 60);
    for plant in plants {
        assert_eq!(
            fakes.plants.get(plant).unwrap().next_reminder_at,
            Some(START + TimeDelta::days(7))
        );
    }
}

#[tokio::test]
async fn no_plant_is_claimed_once_the_service_is_stopping() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    let fern = plant(&fakes, ada, 1, "Fern", "chill_friend", Some(START));
    use_cases.stop.raise();

    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 0);

    assert!(fakes.sms_log.entries().is_empty());
    assert_eq!(
        fakes.plants.get(fern).unwrap().next_reminder_at,
        Some(START)
    );
}

#[tokio::test]
async fn a_reminder_claimed_for_a_plant_deleted_since_is_not_sent() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    let fern = plant(&fakes, ada, 1, "Fern", "chill_friend", Some(START));
    // Another worker claimed it and stopped; then the owner deleted the plant.
    assert_eq!(
        fakes
            .reminder_queue
            .claim_due(START, 50, FAKE_SENDER_NUMBER)
            .await
            .unwrap(),
        1
    );
    assert!(fakes.plants.delete(ada, fern).await.unwrap());

    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 1);

    let entry = fakes.sms_log.entries().pop().unwrap();
    assert_eq!(entry.status, SmsStatus::Failed);
    assert_eq!(entry.error_message.as_deref(), Some("the plant is gone"));
    assert!(fakes.sms_sender.sent().is_empty());
}

#[tokio::test]
async fn a_reminder_whose_text_cannot_be_written_is_left_for_a_later_pass() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    plant(&fakes, ada, 1, "Fern", UNKNOWN_PERSONALITY, Some(START));

    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 0);

    let entry = fakes.sms_log.entries().pop().unwrap();
    assert_eq!(entry.status, SmsStatus::Pending);
    assert_eq!(entry.body, None);
    assert!(entry.lease.is_some(), "held until its lease runs out");
    assert!(fakes.sms_sender.sent().is_empty());
}

#[tokio::test]
async fn a_reminder_over_the_daily_cap_leaves_no_message_in_the_conversation() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    let fern = plant(&fakes, ada, 1, "Fern", "chill_friend", Some(START));
    for _ in 0..5 {
        use_cases
            .outbox
            .send(
                Some(ada),
                phone(1),
                SmsBody::parse("news").unwrap(),
                SmsPurpose::Message,
            )
            .await
            .unwrap();
    }

    assert_eq!(use_cases.reminders.send_due().await.unwrap(), 1);

    let reminder = fakes.sms_log.entries().pop().unwrap();
    assert_eq!(reminder.purpose, SmsPurpose::Reminder);
    assert_eq!(reminder.error_code.as_deref(), Some("cap"));
    assert!(conversation(&fakes, ada, fern).is_empty());
    assert_eq!(fakes.sms_sender.sent().len(), 5);
}

/// Whether the store was unavailable behind a reminder error.
fn unavailable_behind(error: &ReminderError) -> bool {
    let source = std::error::Error::source(error).unwrap();
    matches!(
        source.downcast_ref::<StoreError>(),
        Some(StoreError::Unavailable(_))
    )
}

#[tokio::test]
async fn reminders_fail_while_the_schedule_cannot_be_read() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = texter(&fakes, 1);
    plant(&fakes, ada, 1, "Fern", "chill_friend", Some(START));
    fakes.outage.begin();

    let error = use_cases.reminders.send_due().await.unwrap_err();

    assert!(unavailable_behind(&error));
    assert!(fakes.sms_log.entries().is_empty());
}

#[tokio::test]
async fn reminders_fail_while_the_outbox_cannot_be_read() {
    let fakes = Fakes::new();
    let ada = texter(&fakes, 1);
    let fern = plant(&fakes, ada, 1, "Fern", "chill_friend", Some(START));
    let log_down = Outage::default();
    log_down.begin();
    let outbox = SmsOutbox::new(SmsOutboxPorts {
        sender: Arc::new(fakes.sms_sender.clone()),
        log: Arc::new(InMemorySmsLog::new(log_down)),
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
    });
    let reminders = Reminders::new(ReminderPorts {
        queue: Arc::new(fakes.reminder_queue.clone()),
        outbox,
        flags: Arc::new(fakes.flags.clone()),
        clock: Arc::new(fakes.clock.clone()),
    });

    let error = reminders.send_due().await.unwrap_err();

    assert!(unavailable_behind(&error));
    assert_eq!(
        fakes.plants.get(fern).unwrap().next_reminder_at,
        Some(START + TimeDelta::days(7)),
        "claimed: the pending reminder waits in the outbox"
    );
    assert!(fakes.sms_sender.sent().is_empty());
}

// --- Phone verification -------------------------------------------------------------------

#[tokio::test]
async fn a_code_is_texted_to_the_accounts_number_and_valid_for_ten_minutes() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = member(&fakes, 1, Some(phone(1)));

    let sent = use_cases
        .phone_verification
        .request_code(&ada)
        .await
        .unwrap();

    assert_eq!(sent.sent_to, phone(1).masked());
    assert_eq!(sent.expires_at, START + CODE_LIFETIME);
    let texts = fakes.sms_sender.sent();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].to, phone(1));
    assert_eq!(texts[0].body.as_str(), "Plant Texts code: 123456");
    let entry = fakes.sms_log.entries().pop().unwrap();
    assert_eq!(entry.purpose, SmsPurpose::Verification);
    assert_eq!(entry.owner.map(|owner| owner.user_id), Some(ada.user_id));
    let stored = fakes.verification_codes.stored();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].user_id, ada.user_id);
    assert_eq!(stored[0].phone, phone(1));
    assert_eq!(stored[0].code, code(0));
    assert_eq!(stored[0].expires_at, START + CODE_LIFETIME);
}

#[tokio::test]
async fn the_right_code_verifies_the_number() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = member(&fakes, 1, Some(phone(1)));
    use_cases
        .phone_verification
        .request_code(&ada)
        .await
        .unwrap();
    fakes
        .clock
        .advance(TimeDelta::minutes(9) + TimeDelta::seconds(59));

    let user = use_cases
        .phone_verification
        .confirm(&ada, &code(0))
        .await
        .unwrap();

    assert!(user.phone_verified);
    assert_eq!(user.updated_at, fakes.clock.now());
    assert_eq!(number_of(&fakes, &ada), (Some(phone(1)), true));
    assert_eq!(
        fakes.verification_codes.stored()[0].consumed_at,
        Some(fakes.clock.now())
    );
}

#[tokio::test]
async fn a_wrong_used_or_expired_code_is_refused() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let verification = &use_cases.phone_verification;
    let (used, expired) = (
        member(&fakes, 1, Some(phone(1))),
        member(&fakes, 2, Some(phone(2))),
    );
    verification.request_code(&used).await.unwrap();
    verification.request_code(&expired).await.unwrap();

    let wrong = verification.confirm(&used, &code(9)).await;
    assert!(matches!(wrong, Err(ConfirmPhoneError::InvalidCode)));
    assert_eq!(fakes.verification_codes.stored()[0].attempts, 1);
    verification.confirm(&used, &code(0)).await.unwrap();
    let again = verification.confirm(&used, &code(0)).await;
    assert!(matches!(again, Err(ConfirmPhoneError::InvalidCode)));

    fakes.clock.advance(CODE_LIFETIME);
    let late = verification.confirm(&expired, &code(1)).await;
    assert!(matches!(late, Err(ConfirmPhoneError::InvalidCode)));
    assert_eq!(number_of(&fakes, &expired), (Some(phone(2)), false));
}

#[tokio::test]
async fn five_tries_void_a_code() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let verification = &use_cases.phone_verification;
    let (careful, clumsy) = (
        member(&fakes, 1, Some(phone(1))),
        member(&fakes, 2, Some(phone(2))),
    );
    verification.request_code(&careful).await.unwrap();
    verification.request_code(&clumsy).await.unwrap();

    for _ in 0..4 {
        assert!(verification.confirm(&careful, &code(9)).await.is_err());
    }
    for _ in 0..5 {
        assert!(verification.confirm(&clumsy, &code(9)).await.is_err());
    }

    assert!(
        verification.confirm(&careful, &code(0)).await.is_ok(),
        "the fifth try"
    );
    let sixth = verification.confirm(&clumsy, &code(1)).await;
    assert!(matches!(sixth, Err(ConfirmPhoneError::InvalidCode)));
    assert_eq!(number_of(&fakes, &clumsy), (Some(phone(2)), false));
}

#[tokio::test]
async fn only_the_newest_code_verifies() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let verification = &use_cases.phone_verification;
    let ada = member(&fakes, 1, Some(phone(1)));
    verification.request_code(&ada).await.unwrap();
    fakes.clock.advance(TimeDelta::minutes(1));
    verification.request_code(&ada).await.unwrap();

    let older = verification.confirm(&ada, &code(0)).await;
    assert!(matches!(older, Err(ConfirmPhoneError::InvalidCode)));

    assert!(verification.confirm(&ada, &code(1)).await.is_ok());
}

#[tokio::test]
async fn a_code_sent_to_an_earlier_number_does_not_verify_the_new_one() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = member(&fakes, 1, Some(phone(1)));
    use_cases
        .phone_verification
        .request_code(&ada)
        .await
        .unwrap();
    member(&fakes, 1, Some(phone(2)));

    let confirmed = use_cases.phone_verification.confirm(&ada, &code(0)).await;

    assert!(matches!(confirmed, Err(ConfirmPhoneError::InvalidCode)));
    assert_eq!(number_of(&fakes, &ada), (Some(phone(2)), false));
}

#[tokio::test]
async fn a_number_changed_while_its_code_is_checked_is_not_verified() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = member(&fakes, 1, Some(phone(1)));
    use_cases
        .phone_verification
        .request_code(&ada)
        .await
        .unwrap();
    let changer = fakes.clone();
    let verification = verification_with(
        &fakes,
        &use_cases,
        Meddling {
            on_try: Box::new(move || {
                member(&changer, 1, Some(phone(2)));
            }),
            ..Meddling::new(&fakes)
        },
    );

    let confirmed = verification.confirm(&ada, &code(0)).await;

    assert!(matches!(confirmed, Err(ConfirmPhoneError::InvalidCode)));
    assert!(
        fakes.verification_codes.stored()[0].consumed_at.is_some(),
        "the code matched the number it was sent to"
    );
    assert_eq!(number_of(&fakes, &ada), (Some(phone(2)), false));
}

#[tokio::test]
async fn at_most_three_codes_an_hour_go_to_an_account() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let verification = &use_cases.phone_verification;
    let ada = member(&fakes, 1, Some(phone(1)));
    for _ in 0..3 {
        verification.request_code(&ada).await.unwrap();
        fakes.clock.advance(TimeDelta::minutes(10));
    }

    let fourth = verification.request_code(&ada).await;
    assert!(matches!(
        fourth,
        Err(RequestCodeError::TooManyCodes {
            retry_after_secs: 1800
        })
    ));
    fakes.clock.set(START + TimeDelta::hours(1));
    let at_the_hour = verification.request_code(&ada).await;
    assert!(matches!(
        at_the_hour,
        Err(RequestCodeError::TooManyCodes {
            retry_after_secs: 1
        })
    ));
    assert_eq!(fakes.sms_sender.sent().len(), 3);

    fakes.clock.advance(TimeDelta::seconds(1));
    assert!(verification.request_code(&ada).await.is_ok());
    assert_eq!(fakes.sms_sender.sent().len(), 4);
}

#[tokio::test]
async fn at_most_three_codes_an_hour_go_to_a_number_whoever_asks() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let verification = &use_cases.phone_verification;
    let (first, second) = (
        member(&fakes, 1, Some(phone(1))),
        member(&fakes, 2, Some(phone(1))),
    );
    for _ in 0..3 {
        verification.request_code(&first).await.unwrap();
    }

    let refused = verification.request_code(&second).await;

    assert!(matches!(
        refused,
        Err(RequestCodeError::TooManyCodes {
            retry_after_secs: 3600
        })
    ));
    assert_eq!(fakes.verification_codes.stored().len(), 3);
}

#[tokio::test]
async fn an_account_without_a_number_has_nothing_to_verify() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = member(&fakes, 1, None);

    let requested = use_cases.phone_verification.request_code(&ada).await;
    let confirmed = use_cases.phone_verification.confirm(&ada, &code(0)).await;

    assert!(matches!(requested, Err(RequestCodeError::NoPhone)));
    assert!(matches!(confirmed, Err(ConfirmPhoneError::InvalidCode)));
    assert!(fakes.sms_sender.sent().is_empty());
}

#[tokio::test]
async fn an_account_that_no_longer_exists_is_not_found() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ghost = Principal {
        user_id: owner(1).user_id,
        tenant_id: owner(1).tenant_id,
        role: Role::Member,
    };

    let requested = use_cases.phone_verification.request_code(&ghost).await;
    let confirmed = use_cases.phone_verification.confirm(&ghost, &code(0)).await;

    assert!(matches!(requested, Err(RequestCodeError::NotFound)));
    assert!(matches!(confirmed, Err(ConfirmPhoneError::NotFound)));
}

#[tokio::test]
async fn phone_verification_fails_while_the_store_is_down() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = member(&fakes, 1, Some(phone(1)));
    fakes.outage.begin();

    let requested = use_cases.phone_verification.request_code(&ada).await;
    let confirmed = use_cases.phone_verification.confirm(&ada, &code(0)).await;

    assert!(matches!(
        requested,
        Err(RequestCodeError::Failed(Failure::Unavailable(_)))
    ));
    assert!(matches!(
        confirmed,
        Err(ConfirmPhoneError::Failed(Failure::Unavailable(_)))
    ));
    assert!(fakes.sms_sender.sent().is_empty());
}

#[tokio::test]
async fn a_code_whose_text_cannot_be_logged_is_a_failure() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let ada = member(&fakes, 1, Some(phone(1)));
    let outage = fakes.outage.clone();
    let verification = verification_with(
        &fakes,
        &use_cases,
        Meddling {
            after_store: Box::new(move || outage.begin()),
            ..Meddling::new(&fakes)
        },
    );

    let requested = verification.request_code(&ada).await;

    assert!(matches!(
        requested,
        Err(RequestCodeError::Failed(Failure::Unavailable(_)))
    ));
    assert!(fakes.sms_log.entries().is_empty());
    assert!(fakes.sms_sender.sent().is_empty());
}

// --- The webhook gate ---------------------------------------------------------------------

const HOOK_URL: &str = "https://plants.example.test/api/v2/webhooks/twilio/sms";

fn form(account_sid: Option<&str>) -> Vec<(String, String)> {
    let mut params = vec![
        ("From".to_owned(), phone(1).as_str().to_owned()),
        ("Body".to_owned(), "hi".to_owned()),
    ];
    if let Some(account_sid) = account_sid {
        params.push(("AccountSid".to_owned(), account_sid.to_owned()));
    }
    params
}

fn check(
    gate: &WebhookGate,
    params: &[(String, String)],
    signature: Option<&str>,
) -> Result<(), WebhookRefused> {
    gate.check(&SignedRequest {
        url: HOOK_URL,
        params,
        signature,
    })
}

#[tokio::test]
async fn a_request_signed_for_our_account_passes_the_gate() {
    let fakes = Fakes::new();
    let gate = fakes.use_cases().webhook_gate;
    let params = form(Some(ACCOUNT_SID));

    assert_eq!(check(&gate, &params, Some(VALID_SIGNATURE)), Ok(()));

    let checks = fakes.signatures.checks();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].url, HOOK_URL);
    assert_eq!(checks[0].params, params);
    assert_eq!(checks[0].signature, VALID_SIGNATURE);
}

#[tokio::test]
async fn an_unsigned_request_is_refused_without_a_signature_check() {
    let fakes = Fakes::new();
    let gate = fakes.use_cases().webhook_gate;

    assert_eq!(
        check(&gate, &form(Some(ACCOUNT_SID)), None),
        Err(WebhookRefused::Unsigned)
    );
    assert!(fakes.signatures.checks().is_empty());
}

#[tokio::test]
async fn a_badly_signed_request_is_refused_whatever_account_it_names() {
    let fakes = Fakes::new();
    let gate = fakes.use_cases().webhook_gate;

    for account in [Some(ACCOUNT_SID), Some("ACother"), None] {
        assert_eq!(
            check(&gate, &form(account), Some("forged")),
            Err(WebhookRefused::BadSignature),
            "{account:?}"
        );
    }
}

#[tokio::test]
async fn a_signed_request_for_another_account_or_none_is_refused() {
    let fakes = Fakes::new();
    let gate = fakes.use_cases().webhook_gate;

    for account in [Some("AC11111111111111111111111111111111"), None] {
        assert_eq!(
            check(&gate, &form(account), Some(VALID_SIGNATURE)),
            Err(WebhookRefused::OtherAccount),
            "{account:?}"
        );
    }
}

#[tokio::test]
async fn without_a_provider_every_webhook_request_is_refused() {
    let gate = WebhookGate::closed();

    assert_eq!(
        check(&gate, &form(Some(ACCOUNT_SID)), Some(VALID_SIGNATURE)),
        Err(WebhookRefused::NotConfigured)
    );
    assert_eq!(format!("{gate:?}"), "WebhookGate { configured: false }");
}

#[tokio::test]
async fn the_use_cases_show_in_debug_output_without_their_ports() {
    let fakes = Fakes::new();
    let use_cases = fakes.use_cases();
    let inbound = InboundPorts {
        accounts: Arc::new(fakes.sms_accounts.clone()),
        received: Arc::new(fakes.inbound_log.clone()),
        plants: Arc::new(fakes.plants.clone()),
        conversations: use_cases.conversations.clone(),
        clock: Arc::new(fakes.clock.clone()),
    };
    let reminders = ReminderPorts {
        queue: Arc::new(fakes.reminder_queue.clone()),
        outbox: use_cases.outbox.clone(),
        flags: Arc::new(fakes.flags.clone()),
        clock: Arc::new(fakes.clock.clone()),
    };
    let verification = PhoneVerificationPorts {
        users: Arc::new(fakes.identity.users()),
        codes: Arc::new(fakes.verification_codes.clone()),
        outbox: use_cases.outbox.clone(),
        clock: Arc::new(fakes.clock.clone()),
        ids: Arc::new(fakes.ids.clone()),
    };

    assert_eq!(format!("{inbound:?}"), "InboundPorts { .. }");
    assert_eq!(format!("{reminders:?}"), "ReminderPorts { .. }");
    assert_eq!(format!("{verification:?}"), "PhoneVerificationPorts { .. }");
    assert_eq!(
        format!("{:?}", InboundTexts::new(inbound)),
        "InboundTexts { .. }"
    );
    assert_eq!(
        format!("{:?}", Reminders::new(reminders)),
        "Reminders { .. }"
    );
    assert_eq!(
        format!("{:?}", PhoneVerification::new(verification)),
        "PhoneVerification { .. }"
    );
    assert_eq!(
        format!("{:?}", use_cases.webhook_gate),
        "WebhookGate { configured: true }"
    );
}
