//! The plant use cases over the fakes: adding, listing, reading, changing, watering and removing
//! a user's plants, each scoped to its owner.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use chrono::TimeDelta;
use domain::{
    catalog::{CatalogPlant, CatalogPlantId, Light, PersonalityKey},
    chat::{Channel, ChatText},
    identity::{TenantId, UserId},
    plants::{Nickname, UserPlantId},
};
use plant_texts_application::testing::owner;
use plant_texts_application::{
    paging::PageRequest,
    plants::{
        CreatePlantError, NewPlant, OwnedPlant, Owner, PlantChanges, PlantError, UpdatePlantError,
    },
    store::StoreError,
    testing::{
        Fakes,
        catalog::sample,
        system::{START, SequentialIds},
    },
};
use uuid::Uuid;

/// Who must never see `owner`'s plants: another user of the tenant, and the same user id under
/// another tenant.
fn strangers_of(owner: Owner) -> [Owner; 2] {
    [
        Owner {
            user_id: UserId::from_uuid(Uuid::from_u128(9_999)),
            ..owner
        },
        Owner {
            tenant_id: TenantId::from_uuid(Uuid::from_u128(9_999)),
            ..owner
        },
    ]
}

fn new_plant(species: CatalogPlantId, nickname: &str, personality: Option<&str>) -> NewPlant {
    NewPlant {
        catalog_plant_id: species,
        nickname: Nickname::parse(nickname).unwrap(),
        personality: personality.map(|key| PersonalityKey::parse(key).unwrap()),
    }
}

/// `owner`'s new plant of `species`, added through the use case.
async fn add(fakes: &Fakes, owner: Owner, species: CatalogPlantId, nickname: &str) -> OwnedPlant {
    fakes
        .use_cases()
        .plants
        .create(owner, new_plant(species, nickname, None))
        .await
        .unwrap()
}

/// A species whose default personality the catalog does not hold: the snapshot is corrupt.
fn corrupt_species() -> CatalogPlant {
    CatalogPlant {
        id: CatalogPlantId::from_uuid(SequentialIds::nth(999)),
        common_name: "Mandrake".to_owned(),
        scientific_name: "Mandragora officinarum".to_owned(),
        watering_interval_days: 5,
        light: Light::Medium,
        default_personality: PersonalityKey::parse("wise_elder").unwrap(),
        restricted_reason: None,
    }
}

fn key(text: &str) -> PersonalityKey {
    PersonalityKey::parse(text).unwrap()
}

// --- create -------------------------------------------------------------------------------

#[tokio::test]
async fn a_new_plant_speaks_with_its_species_personality_and_is_reminded_one_interval_from_now() {
    let fakes = Fakes::new();
    let me = owner(1);

    let added = add(&fakes, me, sample::TOMATO, "  Tommy  ").await;

    let plant = &added.plant;
    assert_eq!(plant.id, UserPlantId::from_uuid(SequentialIds::nth(1)));
    assert_eq!((plant.tenant_id, plant.owner), (me.tenant_id, me.user_id));
    assert_eq!(plant.nickname.as_str(), "Tommy");
    assert_eq!(plant.personality, key("drama_queen"));
    assert_eq!(plant.last_watered_at, None);
    assert_eq!(plant.next_reminder_at, Some(START + TimeDelta::days(2)));
    assert!(plant.is_active);
    assert_eq!((plant.created_at, plant.updated_at), (START, START));
    assert_eq!(added.catalog.id, sample::TOMATO);
    assert_eq!(added.catalog.common_name, "Tomato");
    assert_eq!(added.catalog.watering_interval_days, 2);
    assert_eq!(fakes.plants.plants(), std::slice::from_ref(plant));
}

#[tokio::test]
async fn a_chosen_personality_replaces_the_species_default() {
    let fakes = Fakes::new();

    let added = fakes
        .use_cases()
        .plants
        .create(
            owner(1),
            new_plant(sample::TOMATO, "Tommy", Some("chill_friend")),
        )
        .await
        .unwrap();

    assert_eq!(added.plant.personality, key("chill_friend"));
    assert_eq!(
        fakes.plants.get(added.plant.id).unwrap().personality,
        key("chill_friend")
    );
}

#[tokio::test]
async fn an_unknown_species_is_refused_and_nothing_is_stored() {
    let fakes = Fakes::new();
    let unknown = CatalogPlantId::from_uuid(Uuid::from_u128(42));

    let refused = fakes
        .use_cases()
        .plants
        .create(owner(1), new_plant(unknown, "Ghost", None))
        .await;

    assert!(
        matches!(refused, Err(CreatePlantError::UnknownCatalogPlant)),
        "{refused:?}"
    );
    assert!(fakes.plants.plants().is_empty());
}

#[tokio::test]
async fn an_unknown_personality_is_refused_and_nothing_is_stored() {
    let fakes = Fakes::new();

    let refused = fakes
        .use_cases()
        .plants
        .create(
            owner(1),
            new_plant(sample::BASIL, "Basil", Some("wise_elder")),
        )
        .await;

    assert!(
        matches!(refused, Err(CreatePlantError::UnknownPersonality)),
        "{refused:?}"
    );
    assert!(fakes.plants.plants().is_empty());
}

#[tokio::test]
async fn adding_a_plant_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    fakes.outage.begin();

    let failed = fakes
        .use_cases()
        .plants
        .create(owner(1), new_plant(sample::BASIL, "Basil", None))
        .await;

    assert!(
        matches!(
            failed,
            Err(CreatePlantError::Store(StoreError::Unavailable(_)))
        ),
        "{failed:?}"
    );
    assert!(fakes.plants.plants().is_empty());
}

#[tokio::test]
async fn a_corrupt_catalog_fails_an_add_as_unexpected() {
    let fakes = Fakes::new();
    fakes.catalog.add_plant(corrupt_species());

    let failed = fakes
        .use_cases()
        .plants
        .create(owner(1), new_plant(sample::BASIL, "Basil", None))
        .await;

    assert!(
        matches!(
            failed,
            Err(CreatePlantError::Store(StoreError::Unexpected(_)))
        ),
        "{failed:?}"
    );
}

// --- list ---------------------------------------------------------------------------------

#[tokio::test]
async fn plants_list_oldest_first_in_pages_and_only_the_callers_own() {
    let fakes = Fakes::new();
    let me = owner(1);
    let first = add(&fakes, me, sample::TOMATO, "First").await;
    for stranger in strangers_of(me) {
        add(&fakes, stranger, sample::BASIL, "Not mine").await;
    }
    let second = add(&fakes, me, sample::BASIL, "Second").await;
    let third = add(&fakes, me, sample::CARROT, "Third").await;
    let plants = fakes.use_cases().plants;

    let page = plants
        .list(
            me,
            PageRequest {
                limit: 2,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items, [first, second.clone()]);
    assert_eq!(page.next_after, Some(second.plant.id.as_uuid()));

    let rest = plants
        .list(
            me,
            PageRequest {
                limit: 2,
                after: page.next_after,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items, [third]);
    assert_eq!(rest.next_after, None);
}

#[tokio::test]
async fn listing_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    fakes.outage.begin();

    let failed = fakes
        .use_cases()
        .plants
        .list(owner(1), PageRequest::default())
        .await;

    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
}

// --- get ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_plant_is_read_with_its_species() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::FENNEL, "Fen").await;

    let read = fakes
        .use_cases()
        .plants
        .get(me, added.plant.id)
        .await
        .unwrap();

    assert_eq!(read, added);
}

#[tokio::test]
async fn a_plant_of_another_owner_is_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::FENNEL, "Fen").await;

    for stranger in strangers_of(me) {
        let read = fakes.use_cases().plants.get(stranger, added.plant.id).await;
        assert!(matches!(read, Err(PlantError::NotFound)), "{read:?}");
    }
}

#[tokio::test]
async fn reading_a_plant_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::FENNEL, "Fen").await;
    fakes.outage.begin();

    let failed = fakes.use_cases().plants.get(me, added.plant.id).await;

    assert!(
        matches!(failed, Err(PlantError::Store(StoreError::Unavailable(_)))),
        "{failed:?}"
    );
}

// --- update -------------------------------------------------------------------------------

#[tokio::test]
async fn a_plant_is_renamed_and_given_another_personality() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::TOMATO, "Tommy").await;
    fakes.clock.advance(TimeDelta::hours(3));

    let changed = fakes
        .use_cases()
        .plants
        .update(
            me,
            added.plant.id,
            PlantChanges {
                nickname: Some(Nickname::parse("Tomasz").unwrap()),
                personality: Some(key("grumpy_cactus")),
                next_reminder_at: None,
            },
        )
        .await
        .unwrap();

    assert_eq!(changed.plant.nickname.as_str(), "Tomasz");
    assert_eq!(changed.plant.personality, key("grumpy_cactus"));
    assert_eq!(changed.plant.next_reminder_at, added.plant.next_reminder_at);
    assert_eq!(changed.plant.updated_at, START + TimeDelta::hours(3));
    assert_eq!(fakes.plants.get(added.plant.id).unwrap(), changed.plant);
}

#[tokio::test]
async fn a_change_writes_only_the_fields_it_names() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::TOMATO, "Tommy").await;
    // A watering lands between the rename's read and its write.
    let watered_at = START + TimeDelta::hours(1);
    let mut watered = added.clone();
    watered.plant.water(watered_at, 2);
    let plants = fakes.plants.clone();
    fakes
        .plants
        .before_next_write(move || plants.insert(watered));

    fakes
        .use_cases()
        .plants
        .update(
            me,
            added.plant.id,
            PlantChanges {
                nickname: Some(Nickname::parse("Tomasz").unwrap()),
                ..PlantChanges::default()
            },
        )
        .await
        .unwrap();

    let stored = fakes.plants.get(added.plant.id).unwrap();
    assert_eq!(stored.nickname.as_str(), "Tomasz");
    assert_eq!(stored.last_watered_at, Some(watered_at));
    assert_eq!(
        stored.next_reminder_at,
        Some(watered_at + TimeDelta::days(2))
    );
}

#[tokio::test]
async fn a_reminder_moved_into_the_future_is_kept() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::TOMATO, "Tommy").await;
    let later = START + TimeDelta::days(10);

    let changed = fakes
        .use_cases()
        .plants
        .update(
            me,
            added.plant.id,
            PlantChanges {
                next_reminder_at: Some(later),
                ..PlantChanges::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(changed.plant.next_reminder_at, Some(later));
    assert_eq!(
        fakes.plants.get(added.plant.id).unwrap().next_reminder_at,
        Some(later)
    );
}

#[tokio::test]
async fn a_reminder_moved_into_the_past_is_due_now() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::TOMATO, "Tommy").await;
    fakes.clock.advance(TimeDelta::hours(5));
    let now = START + TimeDelta::hours(5);

    let changed = fakes
        .use_cases()
        .plants
        .update(
            me,
            added.plant.id,
            PlantChanges {
                next_reminder_at: Some(START - TimeDelta::days(30)),
                ..PlantChanges::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(changed.plant.next_reminder_at, Some(now));
    assert_eq!(
        fakes.plants.get(added.plant.id).unwrap().next_reminder_at,
        Some(now)
    );
}

#[tokio::test]
async fn an_unknown_personality_refuses_the_whole_change() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::TOMATO, "Tommy").await;

    let refused = fakes
        .use_cases()
        .plants
        .update(
            me,
            added.plant.id,
            PlantChanges {
                nickname: Some(Nickname::parse("Tomasz").unwrap()),
                personality: Some(key("wise_elder")),
                next_reminder_at: None,
            },
        )
        .await;

    assert!(
        matches!(refused, Err(UpdatePlantError::UnknownPersonality)),
        "{refused:?}"
    );
    assert_eq!(fakes.plants.get(added.plant.id).unwrap(), added.plant);
}

#[tokio::test]
async fn a_change_to_another_owners_plant_is_not_found_and_changes_nothing() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::TOMATO, "Tommy").await;

    for stranger in strangers_of(me) {
        let refused = fakes
            .use_cases()
            .plants
            .update(
                stranger,
                added.plant.id,
                PlantChanges {
                    nickname: Some(Nickname::parse("Stolen").unwrap()),
                    ..PlantChanges::default()
                },
            )
            .await;
        assert!(
            matches!(refused, Err(UpdatePlantError::NotFound)),
            "{refused:?}"
        );
    }
    assert_eq!(fakes.plants.get(added.plant.id).unwrap(), added.plant);
}

#[tokio::test]
async fn a_plant_removed_while_it_was_being_changed_is_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::TOMATO, "Tommy").await;
    let plants = fakes.plants.clone();
    let id = added.plant.id;
    fakes.plants.before_next_write(move || {
        plants.remove(id);
    });

    let refused = fakes
        .use_cases()
        .plants
        .update(
            me,
            id,
            PlantChanges {
                nickname: Some(Nickname::parse("Tomasz").unwrap()),
                ..PlantChanges::default()
            },
        )
        .await;

    assert!(
        matches!(refused, Err(UpdatePlantError::NotFound)),
        "{refused:?}"
    );
    assert!(fakes.plants.plants().is_empty());
}

#[tokio::test]
async fn changing_a_plant_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::TOMATO, "Tommy").await;
    fakes.outage.begin();

    let failed = fakes
        .use_cases()
        .plants
        .update(me, added.plant.id, PlantChanges::default())
        .await;

    assert!(
        matches!(
            failed,
            Err(UpdatePlantError::Store(StoreError::Unavailable(_)))
        ),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_corrupt_catalog_fails_a_change_of_personality_as_unexpected() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::TOMATO, "Tommy").await;
    fakes.catalog.add_plant(corrupt_species());

    let failed = fakes
        .use_cases()
        .plants
        .update(
            me,
            added.plant.id,
            PlantChanges {
                personality: Some(key("chill_friend")),
                ..PlantChanges::default()
            },
        )
        .await;

    assert!(
        matches!(
            failed,
            Err(UpdatePlantError::Store(StoreError::Unexpected(_)))
        ),
        "{failed:?}"
    );
    assert_eq!(fakes.plants.get(added.plant.id).unwrap(), added.plant);
}

// --- water --------------------------------------------------------------------------------

#[tokio::test]
async fn watering_records_now_and_reschedules_by_the_species_interval() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::FENNEL, "Fen").await;
    fakes.clock.advance(TimeDelta::days(1));
    let now = START + TimeDelta::days(1);

    let watered = fakes
        .use_cases()
        .plants
        .water(me, added.plant.id)
        .await
        .unwrap();

    assert_eq!(watered.plant.last_watered_at, Some(now));
    assert_eq!(
        watered.plant.next_reminder_at,
        Some(now + TimeDelta::days(4))
    );
    assert_eq!(watered.plant.updated_at, now);
    assert_eq!(fakes.plants.get(added.plant.id).unwrap(), watered.plant);
}

#[tokio::test]
async fn watering_another_owners_plant_is_not_found_and_changes_nothing() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::FENNEL, "Fen").await;

    for stranger in strangers_of(me) {
        let refused = fakes
            .use_cases()
            .plants
            .water(stranger, added.plant.id)
            .await;
        assert!(matches!(refused, Err(PlantError::NotFound)), "{refused:?}");
    }
    assert_eq!(fakes.plants.get(added.plant.id).unwrap(), added.plant);
}

#[tokio::test]
async fn watering_a_plant_removed_meanwhile_is_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::FENNEL, "Fen").await;
    let plants = fakes.plants.clone();
    let id = added.plant.id;
    fakes.plants.before_next_write(move || {
        plants.remove(id);
    });

    let refused = fakes.use_cases().plants.water(me, id).await;

    assert!(matches!(refused, Err(PlantError::NotFound)), "{refused:?}");
}

#[tokio::test]
async fn watering_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::FENNEL, "Fen").await;
    fakes.outage.begin();

    let failed = fakes.use_cases().plants.water(me, added.plant.id).await;

    assert!(
        matches!(failed, Err(PlantError::Store(StoreError::Unavailable(_)))),
        "{failed:?}"
    );
}

// --- delete -------------------------------------------------------------------------------

#[tokio::test]
async fn removing_a_plant_takes_its_conversation_along() {
    let fakes = Fakes::new();
    let me = owner(1);
    let doomed = add(&fakes, me, sample::TOMATO, "Doomed").await;
    let kept = add(&fakes, me, sample::BASIL, "Kept").await;
    let use_cases = fakes.use_cases();
    let hello = ChatText::parse("hello").unwrap();
    for plant in [&doomed, &kept] {
        use_cases
            .conversations
            .chat(me, plant.plant.id, &hello, Channel::Web)
            .await
            .unwrap();
    }

    use_cases.plants.delete(me, doomed.plant.id).await.unwrap();

    assert_eq!(fakes.plants.plants(), std::slice::from_ref(&kept.plant));
    assert!(
        fakes
            .messages
            .conversation(me.tenant_id, doomed.plant.id)
            .is_empty()
    );
    assert_eq!(
        fakes
            .messages
            .conversation(me.tenant_id, kept.plant.id)
            .len(),
        2
    );
}

#[tokio::test]
async fn removing_another_owners_plant_is_not_found_and_keeps_it() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::TOMATO, "Tommy").await;

    for stranger in strangers_of(me) {
        let refused = fakes
            .use_cases()
            .plants
            .delete(stranger, added.plant.id)
            .await;
        assert!(matches!(refused, Err(PlantError::NotFound)), "{refused:?}");
    }
    assert_eq!(fakes.plants.plants(), [added.plant]);
}

#[tokio::test]
async fn removing_a_plant_during_an_outage_fails_as_unavailable_and_keeps_it() {
    let fakes = Fakes::new();
    let me = owner(1);
    let added = add(&fakes, me, sample::TOMATO, "Tommy").await;
    fakes.outage.begin();

    let failed = fakes.use_cases().plants.delete(me, added.plant.id).await;

    assert!(
        matches!(failed, Err(PlantError::Store(StoreError::Unavailable(_)))),
        "{failed:?}"
    );
    assert_eq!(fakes.plants.plants(), [added.plant]);
}
