//! The conversation use cases over the fakes: replies from the chat model or the personality's
//! templates, the `ai_chat` switch, reminders, the history and the chat model's metrics.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use domain::{
    catalog::{CatalogPlantId, PersonalityKey},
    chat::{Channel, ChatText, Direction, Message, MessageId, ReplySource},
    plants::{Nickname, UserPlant, UserPlantId},
};
use plant_texts_application::testing::{owner, strangers_of};
use plant_texts_application::{
    chat::{ChatError, ChatModelError, Speaker, Turn},
    failure::Failure,
    flags::{FeatureFlags, Flag},
    metrics::AiOutcome,
    paging::PageRequest,
    plants::{CatalogSummary, NewPlant, OwnedPlant, Owner},
    testing::{
        Fakes,
        catalog::sample,
        chat::FIXED_REPLY,
        system::{START, SequentialIds},
    },
};
use uuid::Uuid;

/// Drama Queen's templates (Tomato's personality).
const DRAMA_GREETING: &str = "Tommy has entered the chat. Applause, please.";
const DRAMA_WATER: &str = "I am PARCHED. A desert. Water, please!";
const DRAMA_DEFAULT: &str = "Fascinating. But have you considered me?";

fn text(text: &str) -> ChatText {
    ChatText::parse(text).unwrap()
}

/// `owner`'s new plant of `species` called `nickname`.
async fn add(fakes: &Fakes, owner: Owner, species: CatalogPlantId, nickname: &str) -> OwnedPlant {
    fakes
        .use_cases()
        .plants
        .create(
            owner,
            NewPlant {
                catalog_plant_id: species,
                nickname: Nickname::parse(nickname).unwrap(),
                personality: None,
            },
        )
        .await
        .unwrap()
}

/// `owner`'s Tomato "Tommy" (drama queen), the first id.
async fn tommy(fakes: &Fakes, owner: Owner) -> UserPlantId {
    add(fakes, owner, sample::TOMATO, "Tommy").await.plant.id
}

/// How often the chat model's outcome was `outcome`.
fn ai_requests(use_cases: &plant_texts_application::compose::UseCases, outcome: AiOutcome) -> u64 {
    use_cases
        .metrics
        .snapshot()
        .ai_requests
        .into_iter()
        .find(|(counted, _)| *counted == outcome)
        .map(|(_, count)| count)
        .unwrap()
}

/// The stored conversation of `plant`, oldest first, as (direction, channel, body, source).
fn conversation(
    fakes: &Fakes,
    owner: Owner,
    plant: UserPlantId,
) -> Vec<(Direction, Channel, String, Option<ReplySource>)> {
    fakes
        .messages
        .conversation(owner.tenant_id, plant)
        .into_iter()
        .map(|message| {
            (
                message.direction,
                message.channel,
                message.body,
                message.source,
            )
        })
        .collect()
}

// --- chat ---------------------------------------------------------------------------------

#[tokio::test]
async fn without_a_chat_model_the_template_for_the_messages_intent_answers() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    let use_cases = fakes.use_cases();

    let reply = use_cases
        .conversations
        .chat(me, plant, &text("Hello there!"), Channel::Web)
        .await
        .unwrap();

    assert_eq!(reply.reply, DRAMA_GREETING);
    assert_eq!(reply.source, ReplySource::Fallback);
    assert_eq!(
        reply.message_id,
        MessageId::from_uuid(SequentialIds::nth(3))
    );
    assert_eq!(
        conversation(&fakes, me, plant),
        [
            (
                Direction::Inbound,
                Channel::Web,
                "Hello there!".to_owned(),
                None
            ),
            (
                Direction::Outbound,
                Channel::Web,
                DRAMA_GREETING.to_owned(),
                Some(ReplySource::Fallback)
            ),
        ]
    );
    let stored = fakes.messages.conversation(me.tenant_id, plant);
    assert!(stored.iter().all(|message| message.created_at == START));
    assert_eq!(stored[1].id, reply.message_id);
    assert_eq!(ai_requests(&use_cases, AiOutcome::Success), 0);
    assert_eq!(ai_requests(&use_cases, AiOutcome::Fallback), 0);
}

#[tokio::test]
async fn a_message_about_water_gets_the_watering_template_and_anything_else_the_default() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    let conversations = fakes.use_cases().conversations;

    let thirsty = conversations
        .chat(me, plant, &text("Is your soil dry?"), Channel::Web)
        .await
        .unwrap();
    let other = conversations
        .chat(me, plant, &text("I read a book"), Channel::Web)
        .await
        .unwrap();

    assert_eq!(thirsty.reply, DRAMA_WATER);
    assert_eq!(other.reply, DRAMA_DEFAULT);
}

#[tokio::test]
async fn the_chat_model_answers_with_its_reply_trimmed_and_is_counted() {
    let fakes = Fakes::new().with_chat_model();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    fakes.chat_model.push_reply("  Darling, I am radiant.  ");
    let use_cases = fakes.use_cases();

    let reply = use_cases
        .conversations
        .chat(me, plant, &text("How are you?"), Channel::Web)
        .await
        .unwrap();

    assert_eq!(reply.reply, "Darling, I am radiant.");
    assert_eq!(reply.source, ReplySource::Ai);
    assert_eq!(
        conversation(&fakes, me, plant)[1],
        (
            Direction::Outbound,
            Channel::Web,
            "Darling, I am radiant.".to_owned(),
            Some(ReplySource::Ai)
        )
    );
    assert_eq!(ai_requests(&use_cases, AiOutcome::Success), 1);
    assert_eq!(ai_requests(&use_cases, AiOutcome::Fallback), 0);
}

#[tokio::test]
async fn the_chat_model_is_given_the_personality_the_ten_messages_before_and_the_new_one() {
    let fakes = Fakes::new().with_chat_model();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    let conversations = fakes.use_cases().conversations;
    for n in 1..=6 {
        conversations
            .chat(me, plant, &text(&format!("message {n}")), Channel::Web)
            .await
            .unwrap();
    }

    conversations
        .chat(me, plant, &text("message 7"), Channel::Web)
        .await
        .unwrap();

    let prompts = fakes.chat_model.prompts();
    assert_eq!(prompts.len(), 7);
    assert!(prompts[0].history.is_empty());
    let last = &prompts[6];
    assert!(last.system_prompt.contains("Drama Queen"), "{last:?}");
    assert_eq!(last.message, "message 7");
    let expected: Vec<Turn> = (2..=6)
        .flat_map(|n| {
            [
                Turn {
                    speaker: Speaker::Owner,
                    text: format!("message {n}"),
                },
                Turn {
                    speaker: Speaker::Plant,
                    text: FIXED_REPLY.to_owned(),
                },
            ]
        })
        .collect();
    assert_eq!(last.history, expected);
}

#[tokio::test]
async fn every_chat_model_failure_falls_back_to_the_template_and_is_counted() {
    let fakes = Fakes::new().with_chat_model();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    let failures = [
        ChatModelError::Refused { status: 400 },
        ChatModelError::QuotaExhausted,
        ChatModelError::Unavailable {
            attempts: 3,
            last_error: "timed out".to_owned(),
        },
        ChatModelError::InvalidAnswer("no choices".to_owned()),
    ];
    let count = u64::try_from(failures.len()).unwrap();
    for failure in failures {
        fakes.chat_model.push_error(failure);
    }
    let use_cases = fakes.use_cases();

    for _ in 0..count {
        let reply = use_cases
            .conversations
            .chat(me, plant, &text("Is your soil dry?"), Channel::Web)
            .await
            .unwrap();
        assert_eq!(reply.reply, DRAMA_WATER);
        assert_eq!(reply.source, ReplySource::Fallback);
    }

    assert_eq!(fakes.chat_model.calls(), 4);
    assert_eq!(ai_requests(&use_cases, AiOutcome::Fallback), count);
    assert_eq!(ai_requests(&use_cases, AiOutcome::Success), 0);
    let stored = conversation(&fakes, me, plant);
    assert_eq!(stored.len(), 8);
    assert!(
        stored
            .iter()
            .filter(|(direction, ..)| *direction == Direction::Outbound)
            .all(|(.., source)| *source == Some(ReplySource::Fallback))
    );
}

#[tokio::test]
async fn a_blank_chat_model_answer_falls_back_to_the_template() {
    let fakes = Fakes::new().with_chat_model();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    fakes.chat_model.push_reply("  \n ");
    let use_cases = fakes.use_cases();

    let reply = use_cases
        .conversations
        .chat(me, plant, &text("hello"), Channel::Web)
        .await
        .unwrap();

    assert_eq!(reply.reply, DRAMA_GREETING);
    assert_eq!(reply.source, ReplySource::Fallback);
    assert_eq!(ai_requests(&use_cases, AiOutcome::Fallback), 1);
}

#[tokio::test]
async fn with_ai_chat_switched_off_the_model_is_not_asked() {
    let fakes = Fakes::new().with_chat_model();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    fakes.flags.set(Flag::AiChat, false);
    let use_cases = fakes.use_cases();

    let reply = use_cases
        .conversations
        .chat(me, plant, &text("hello"), Channel::Web)
        .await
        .unwrap();

    assert_eq!(reply.source, ReplySource::Fallback);
    assert_eq!(reply.reply, DRAMA_GREETING);
    assert_eq!(fakes.chat_model.calls(), 0);
    assert_eq!(ai_requests(&use_cases, AiOutcome::Fallback), 0);
}

#[tokio::test]
async fn switching_ai_chat_back_on_asks_the_model_again() {
    let fakes = Fakes::new().with_chat_model();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    let conversations = fakes.use_cases().conversations;
    fakes.flags.set(Flag::AiChat, false);
    conversations
        .chat(me, plant, &text("hello"), Channel::Web)
        .await
        .unwrap();
    fakes.flags.set(Flag::AiChat, true);

    let reply = conversations
        .chat(me, plant, &text("hello"), Channel::Web)
        .await
        .unwrap();

    assert_eq!(reply.source, ReplySource::Ai);
    assert_eq!(reply.reply, FIXED_REPLY);
    assert_eq!(fakes.chat_model.calls(), 1);
}

#[tokio::test]
async fn a_text_by_sms_is_stored_on_the_sms_channel() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;

    fakes
        .use_cases()
        .conversations
        .chat(me, plant, &text("hello"), Channel::Sms)
        .await
        .unwrap();

    assert!(
        conversation(&fakes, me, plant)
            .iter()
            .all(|(_, channel, ..)| *channel == Channel::Sms)
    );
}

#[tokio::test]
async fn consecutive_template_replies_do_not_repeat_one_line() {
    let fakes = Fakes::new();
    let me = owner(1);
    // Fennel speaks as the grumpy cactus: two default templates.
    let plant = add(&fakes, me, sample::FENNEL, "Fen").await.plant.id;
    let conversations = fakes.use_cases().conversations;

    let first = conversations
        .chat(me, plant, &text("I read a book"), Channel::Web)
        .await
        .unwrap();
    let second = conversations
        .chat(me, plant, &text("It was long"), Channel::Web)
        .await
        .unwrap();

    assert_ne!(first.reply, second.reply);
}

#[tokio::test]
async fn a_message_to_another_owners_plant_is_not_found_and_nothing_is_stored() {
    let fakes = Fakes::new().with_chat_model();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;

    for stranger in strangers_of(me) {
        let refused = fakes
            .use_cases()
            .conversations
            .chat(stranger, plant, &text("hello"), Channel::Web)
            .await;
        assert!(
            matches!(refused, Err(ChatError::PlantNotFound)),
            "{refused:?}"
        );
    }
    assert!(fakes.messages.stored().is_empty());
    assert_eq!(fakes.chat_model.calls(), 0);
}

#[tokio::test]
async fn chatting_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    fakes.outage.begin();

    let failed = fakes
        .use_cases()
        .conversations
        .chat(me, plant, &text("hello"), Channel::Web)
        .await;

    assert!(
        matches!(failed, Err(ChatError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
}

/// Seeds `owner`'s Basil speaking as `wise_elder`, a personality the catalog does not hold.
fn plant_with_a_lost_personality(fakes: &Fakes, owner: Owner) -> UserPlantId {
    let basil = fakes.catalog.plant_named("Basil").unwrap();
    let id = UserPlantId::from_uuid(Uuid::from_u128(77));
    fakes.plants.insert(OwnedPlant {
        plant: UserPlant {
            id,
            tenant_id: owner.tenant_id,
            owner: owner.user_id,
            catalog_plant_id: basil.id,
            nickname: Nickname::parse("Elder").unwrap(),
            personality: PersonalityKey::parse("wise_elder").unwrap(),
            last_watered_at: None,
            next_reminder_at: None,
            is_active: true,
            created_at: START,
            updated_at: START,
        },
        catalog: CatalogSummary::from(&basil),
    });
    id
}

#[tokio::test]
async fn a_plant_whose_personality_left_the_catalog_fails_as_unexpected() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plant = plant_with_a_lost_personality(&fakes, me);

    let failed = fakes
        .use_cases()
        .conversations
        .chat(me, plant, &text("hello"), Channel::Web)
        .await;

    assert!(
        matches!(failed, Err(ChatError::Failed(Failure::Unexpected(_)))),
        "{failed:?}"
    );
    assert!(fakes.messages.stored().is_empty());
}

#[tokio::test]
async fn an_exchange_the_store_refuses_stores_neither_message_and_fails_as_unexpected() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    // The reply's id (the third) is taken already: the store refuses the exchange.
    let squatter = Message {
        id: MessageId::from_uuid(SequentialIds::nth(3)),
        plant_id: plant,
        direction: Direction::Outbound,
        channel: Channel::Sms,
        body: "already here".to_owned(),
        source: Some(ReplySource::Fallback),
        created_at: START,
    };
    fakes.messages.insert(me.tenant_id, squatter.clone());

    let failed = fakes
        .use_cases()
        .conversations
        .chat(me, plant, &text("hello"), Channel::Web)
        .await;

    assert!(
        matches!(failed, Err(ChatError::Failed(Failure::Unexpected(_)))),
        "{failed:?}"
    );
    assert_eq!(fakes.messages.conversation(me.tenant_id, plant), [squatter]);
}

// --- reminder -----------------------------------------------------------------------------

#[tokio::test]
async fn without_a_chat_model_a_reminder_is_the_watering_template_sent_by_sms() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;

    let reminder = fakes
        .use_cases()
        .conversations
        .reminder(me, plant)
        .await
        .unwrap();

    assert_eq!(reminder.nickname, "Tommy");
    assert_eq!(reminder.text, DRAMA_WATER);
    assert_eq!(
        conversation(&fakes, me, plant),
        [(
            Direction::Outbound,
            Channel::Sms,
            DRAMA_WATER.to_owned(),
            Some(ReplySource::Fallback)
        )]
    );
}

#[tokio::test]
async fn a_personality_without_a_watering_template_reminds_with_its_default_one() {
    let fakes = Fakes::new();
    let me = owner(1);
    // Basil speaks as the sunny optimist, who has no watering template.
    let plant = add(&fakes, me, sample::BASIL, "Basil").await.plant.id;

    let reminder = fakes
        .use_cases()
        .conversations
        .reminder(me, plant)
        .await
        .unwrap();

    assert_eq!(reminder.text, "Wonderful! Tell me everything!");
}

#[tokio::test]
async fn the_chat_model_writes_the_reminder_when_asked_for_one_after_the_conversation() {
    let fakes = Fakes::new().with_chat_model();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    let use_cases = fakes.use_cases();
    use_cases
        .conversations
        .chat(me, plant, &text("hello"), Channel::Web)
        .await
        .unwrap();
    fakes.chat_model.push_reply(" Water me, darling! ");

    let reminder = use_cases.conversations.reminder(me, plant).await.unwrap();

    assert_eq!(reminder.text, "Water me, darling!");
    let prompt = fakes.chat_model.prompts().pop().unwrap();
    assert!(
        prompt.message.contains("time for your watering"),
        "{prompt:?}"
    );
    assert_eq!(prompt.history.len(), 2);
    assert_eq!(
        conversation(&fakes, me, plant).pop().unwrap(),
        (
            Direction::Outbound,
            Channel::Sms,
            "Water me, darling!".to_owned(),
            Some(ReplySource::Ai)
        )
    );
    assert_eq!(ai_requests(&use_cases, AiOutcome::Success), 2);
}

#[tokio::test]
async fn a_failing_chat_model_reminds_with_the_watering_template() {
    let fakes = Fakes::new().with_chat_model();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    fakes.chat_model.push_error(ChatModelError::QuotaExhausted);
    let use_cases = fakes.use_cases();

    let reminder = use_cases.conversations.reminder(me, plant).await.unwrap();

    assert_eq!(reminder.text, DRAMA_WATER);
    assert_eq!(ai_requests(&use_cases, AiOutcome::Fallback), 1);
}

#[tokio::test]
async fn a_reminder_for_a_plant_the_owner_no_longer_has_is_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    fakes.plants.remove(plant);

    let refused = fakes.use_cases().conversations.reminder(me, plant).await;

    assert!(
        matches!(refused, Err(ChatError::PlantNotFound)),
        "{refused:?}"
    );
    for stranger in strangers_of(me) {
        let plant = tommy(&fakes, me).await;
        let refused = fakes
            .use_cases()
            .conversations
            .reminder(stranger, plant)
            .await;
        assert!(
            matches!(refused, Err(ChatError::PlantNotFound)),
            "{refused:?}"
        );
    }
    assert!(fakes.messages.stored().is_empty());
}

#[tokio::test]
async fn a_reminder_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    fakes.outage.begin();

    let failed = fakes.use_cases().conversations.reminder(me, plant).await;

    assert!(
        matches!(failed, Err(ChatError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_reminder_from_a_lost_personality_or_refused_by_the_store_fails_as_unexpected() {
    let fakes = Fakes::new();
    let me = owner(1);
    let lost = plant_with_a_lost_personality(&fakes, me);
    let failed = fakes.use_cases().conversations.reminder(me, lost).await;
    assert!(
        matches!(failed, Err(ChatError::Failed(Failure::Unexpected(_)))),
        "{failed:?}"
    );

    let plant = tommy(&fakes, me).await;
    let next_id = MessageId::from_uuid(SequentialIds::nth(fakes.ids.issued() + 1));
    let squatter = Message {
        id: next_id,
        plant_id: plant,
        direction: Direction::Inbound,
        channel: Channel::Web,
        body: "already here".to_owned(),
        source: None,
        created_at: START,
    };
    fakes.messages.insert(me.tenant_id, squatter);
    let failed = fakes.use_cases().conversations.reminder(me, plant).await;
    assert!(
        matches!(failed, Err(ChatError::Failed(Failure::Unexpected(_)))),
        "{failed:?}"
    );
    assert_eq!(fakes.messages.stored().len(), 1);
}

// --- history ------------------------------------------------------------------------------

#[tokio::test]
async fn the_history_reads_newest_first_in_pages() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    let conversations = fakes.use_cases().conversations;
    conversations
        .chat(me, plant, &text("hello"), Channel::Web)
        .await
        .unwrap();
    conversations.reminder(me, plant).await.unwrap();

    let page = conversations
        .history(
            me,
            plant,
            PageRequest {
                limit: 2,
                after: None,
            },
        )
        .await
        .unwrap();
    let bodies: Vec<&str> = page.items.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, [DRAMA_WATER, DRAMA_GREETING]);
    assert_eq!(page.next_after, Some(page.items[1].id.as_uuid()));

    let rest = conversations
        .history(
            me,
            plant,
            PageRequest {
                limit: 2,
                after: page.next_after,
            },
        )
        .await
        .unwrap();
    let bodies: Vec<&str> = rest.items.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["hello"]);
    assert_eq!(rest.next_after, None);
}

#[tokio::test]
async fn the_history_of_another_owners_plant_is_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    fakes
        .use_cases()
        .conversations
        .chat(me, plant, &text("hello"), Channel::Web)
        .await
        .unwrap();

    for stranger in strangers_of(me) {
        let refused = fakes
            .use_cases()
            .conversations
            .history(stranger, plant, PageRequest::default())
            .await;
        assert!(
            matches!(refused, Err(ChatError::PlantNotFound)),
            "{refused:?}"
        );
    }
}

#[tokio::test]
async fn the_history_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plant = tommy(&fakes, me).await;
    fakes.outage.begin();

    let failed = fakes
        .use_cases()
        .conversations
        .history(me, plant, PageRequest::default())
        .await;

    assert!(
        matches!(failed, Err(ChatError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
}
