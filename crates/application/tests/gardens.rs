//! The garden use cases over the fakes: gardens, plantings and their moves, events, the
//! compliance check on restricted crops, the rule engine's analysis and the layout.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use chrono::{NaiveDate, TimeDelta};
use domain::{
    catalog::{CatalogPlant, CatalogPlantId, Light, PersonalityKey},
    gardens::{
        Cell, EventKind, EventNotes, Garden, GardenId, GardenName, GridSide, Planting, PlantingId,
        PlantingStatus, RefusedStatusMove,
        rules::{Rule, Severity},
    },
};
use plant_texts_application::testing::{owner, strangers_of};
use plant_texts_application::{
    compose::UseCases,
    failure::Failure,
    flags::{FeatureFlags, Flag},
    gardens::{
        ComplianceDecision, CreatePlantingError, GardenChanges, GardenError, LayoutCell,
        MAX_PLANTINGS_PER_GARDEN, NewEvent, NewGarden, NewPlanting, PlantingChanges, PlantingError,
        RULE_ENGINE_OFF, UpdatePlantingError,
    },
    metrics::ComplianceAction,
    paging::PageRequest,
    plants::Owner,
    store::StoreError,
    testing::{
        Fakes,
        catalog::sample,
        system::{START, SequentialIds},
    },
};
use uuid::Uuid;

const KUDZU_REASON: &str =
    "Federal noxious weed in the United States: invasive vine that smothers native vegetation.";

fn side(cells: i64) -> GridSide {
    GridSide::new(cells).unwrap()
}

/// `owner`'s new `width` × `length` garden "Plot".
async fn garden(fakes: &Fakes, owner: Owner, width: i64, length: i64) -> Garden {
    fakes
        .use_cases()
        .gardens
        .create(
            owner,
            NewGarden {
                name: GardenName::parse("Plot").unwrap(),
                width: side(width),
                length: side(length),
            },
        )
        .await
        .unwrap()
}

/// A planned planting of `species` at (x, y).
fn at(species: CatalogPlantId, x: u32, y: u32) -> NewPlanting {
    NewPlanting {
        catalog_plant_id: species,
        cell: Cell { x, y },
        status: PlantingStatus::Planned,
        planted_on: None,
    }
}

/// `owner`'s new planned planting of `species` at (x, y) in `garden`.
async fn plant(
    fakes: &Fakes,
    owner: Owner,
    garden: GardenId,
    species: CatalogPlantId,
    (x, y): (u32, u32),
) -> Planting {
    fakes
        .use_cases()
        .gardens
        .add_planting(owner, garden, at(species, x, y))
        .await
        .unwrap()
}

/// Moves `planting` to `status`.
async fn move_to(fakes: &Fakes, owner: Owner, planting: PlantingId, status: PlantingStatus) {
    fakes
        .use_cases()
        .gardens
        .update_planting(
            owner,
            planting,
            PlantingChanges {
                status: Some(status),
                ..PlantingChanges::default()
            },
        )
        .await
        .unwrap();
}

/// A planting of `owner` written straight into the store.
fn seeded(owner: Owner, garden: GardenId, n: u128, status: PlantingStatus) -> Planting {
    Planting {
        id: PlantingId::from_uuid(Uuid::from_u128(0xA000_0000 + n)),
        tenant_id: owner.tenant_id,
        owner: owner.user_id,
        garden_id: garden,
        catalog_plant_id: sample::CARROT,
        cell: Cell { x: 0, y: 0 },
        status,
        planted_on: None,
        created_at: START,
        updated_at: START,
    }
}

fn event(kind: EventKind) -> NewEvent {
    NewEvent {
        kind,
        occurred_at: None,
        notes: None,
    }
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

/// How many restricted crops met `action`.
fn violations(use_cases: &UseCases, action: ComplianceAction) -> u64 {
    use_cases
        .metrics
        .snapshot()
        .compliance_violations
        .into_iter()
        .find(|(counted, _)| *counted == action)
        .map(|(_, count)| count)
        .unwrap()
}

/// How often `rule` ran.
fn rule_runs(use_cases: &UseCases, rule: Rule) -> u64 {
    use_cases
        .metrics
        .snapshot()
        .rules
        .into_iter()
        .find(|(timed, _)| *timed == rule)
        .map(|(_, histogram)| histogram.count)
        .unwrap()
}

// --- gardens ------------------------------------------------------------------------------

#[tokio::test]
async fn a_garden_is_created_with_its_grid_now() {
    let fakes = Fakes::new();
    let me = owner(1);

    let created = garden(&fakes, me, 4, 3).await;

    assert_eq!(created.id, GardenId::from_uuid(SequentialIds::nth(1)));
    assert_eq!(
        (created.tenant_id, created.owner),
        (me.tenant_id, me.user_id)
    );
    assert_eq!(created.name.as_str(), "Plot");
    assert_eq!((created.width.get(), created.length.get()), (4, 3));
    assert_eq!((created.created_at, created.updated_at), (START, START));
    assert_eq!(fakes.gardens.gardens(), [created]);
}

#[tokio::test]
async fn creating_a_garden_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    fakes.outage.begin();

    let failed = fakes
        .use_cases()
        .gardens
        .create(
            owner(1),
            NewGarden {
                name: GardenName::parse("Plot").unwrap(),
                width: side(1),
                length: side(1),
            },
        )
        .await;

    assert!(
        matches!(failed, Err(GardenError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_garden_the_store_refuses_fails_as_unexpected() {
    let fakes = Fakes::new();
    // Another garden holds the id the next one gets.
    let squatter = Garden {
        id: GardenId::from_uuid(SequentialIds::nth(1)),
        tenant_id: owner(2).tenant_id,
        owner: owner(2).user_id,
        name: GardenName::parse("Squatter").unwrap(),
        width: side(1),
        length: side(1),
        created_at: START,
        updated_at: START,
    };
    fakes.gardens.insert(squatter.clone());

    let failed = fakes
        .use_cases()
        .gardens
        .create(
            owner(1),
            NewGarden {
                name: GardenName::parse("Plot").unwrap(),
                width: side(1),
                length: side(1),
            },
        )
        .await;

    assert!(
        matches!(failed, Err(GardenError::Failed(Failure::Unexpected(_)))),
        "{failed:?}"
    );
    assert_eq!(fakes.gardens.gardens(), [squatter]);
}

#[tokio::test]
async fn gardens_list_oldest_first_in_pages_and_only_the_callers_own() {
    let fakes = Fakes::new();
    let me = owner(1);
    let first = garden(&fakes, me, 1, 1).await;
    for stranger in strangers_of(me) {
        garden(&fakes, stranger, 1, 1).await;
    }
    let second = garden(&fakes, me, 2, 2).await;
    let third = garden(&fakes, me, 3, 3).await;
    let gardens = fakes.use_cases().gardens;

    let page = gardens
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
    assert_eq!(page.next_after, Some(second.id.as_uuid()));
    let rest = gardens
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
async fn listing_gardens_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    fakes.outage.begin();

    let failed = fakes
        .use_cases()
        .gardens
        .list(owner(1), PageRequest::default())
        .await;

    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_garden_is_read_by_its_owner_only() {
    let fakes = Fakes::new();
    let me = owner(1);
    let created = garden(&fakes, me, 2, 2).await;
    let gardens = fakes.use_cases().gardens;

    assert_eq!(gardens.get(me, created.id).await.unwrap(), created);
    for stranger in strangers_of(me) {
        let read = gardens.get(stranger, created.id).await;
        assert!(matches!(read, Err(GardenError::NotFound)), "{read:?}");
    }
}

#[tokio::test]
async fn reading_a_garden_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let me = owner(1);
    let created = garden(&fakes, me, 2, 2).await;
    fakes.outage.begin();

    let failed = fakes.use_cases().gardens.get(me, created.id).await;

    assert!(
        matches!(failed, Err(GardenError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_garden_is_renamed_and_resized_now() {
    let fakes = Fakes::new();
    let me = owner(1);
    let created = garden(&fakes, me, 2, 2).await;
    fakes.clock.advance(TimeDelta::minutes(5));

    let changed = fakes
        .use_cases()
        .gardens
        .update(
            me,
            created.id,
            GardenChanges {
                name: Some(GardenName::parse("Back yard").unwrap()),
                width: Some(side(10)),
                length: Some(side(20)),
            },
        )
        .await
        .unwrap();

    assert_eq!(changed.name.as_str(), "Back yard");
    assert_eq!((changed.width.get(), changed.length.get()), (10, 20));
    assert_eq!(changed.created_at, START);
    assert_eq!(changed.updated_at, START + TimeDelta::minutes(5));
    assert_eq!(fakes.gardens.get(created.id).unwrap(), changed);
}

#[tokio::test]
async fn a_rename_does_not_undo_a_resize_that_landed_meanwhile() {
    let fakes = Fakes::new();
    let me = owner(1);
    let created = garden(&fakes, me, 2, 2).await;
    let resized = Garden {
        width: side(7),
        ..created.clone()
    };
    let gardens = fakes.gardens.clone();
    fakes
        .gardens
        .before_next_write(move || gardens.insert(resized));

    fakes
        .use_cases()
        .gardens
        .update(
            me,
            created.id,
            GardenChanges {
                name: Some(GardenName::parse("Renamed").unwrap()),
                ..GardenChanges::default()
            },
        )
        .await
        .unwrap();

    let stored = fakes.gardens.get(created.id).unwrap();
    assert_eq!(stored.name.as_str(), "Renamed");
    assert_eq!(stored.width.get(), 7);
}

#[tokio::test]
async fn a_change_to_another_owners_garden_is_not_found_and_changes_nothing() {
    let fakes = Fakes::new();
    let me = owner(1);
    let created = garden(&fakes, me, 2, 2).await;

    for stranger in strangers_of(me) {
        let refused = fakes
            .use_cases()
            .gardens
            .update(
                stranger,
                created.id,
                GardenChanges {
                    width: Some(side(9)),
                    ..GardenChanges::default()
                },
            )
            .await;
        assert!(matches!(refused, Err(GardenError::NotFound)), "{refused:?}");
    }
    assert_eq!(fakes.gardens.get(created.id).unwrap(), created);
}

#[tokio::test]
async fn a_garden_deleted_while_it_was_being_changed_is_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let created = garden(&fakes, me, 2, 2).await;
    let gardens = fakes.gardens.clone();
    let id = created.id;
    fakes.gardens.before_next_write(move || {
        gardens.remove(id);
    });

    let refused = fakes
        .use_cases()
        .gardens
        .update(me, id, GardenChanges::default())
        .await;

    assert!(matches!(refused, Err(GardenError::NotFound)), "{refused:?}");
    assert!(fakes.gardens.gardens().is_empty());
}

#[tokio::test]
async fn changing_a_garden_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let me = owner(1);
    let created = garden(&fakes, me, 2, 2).await;
    fakes.outage.begin();

    let failed = fakes
        .use_cases()
        .gardens
        .update(me, created.id, GardenChanges::default())
        .await;

    assert!(
        matches!(failed, Err(GardenError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
}

#[tokio::test]
async fn deleting_a_garden_takes_its_plantings_and_their_events() {
    let fakes = Fakes::new();
    let me = owner(1);
    let doomed = garden(&fakes, me, 2, 2).await;
    let kept = garden(&fakes, me, 2, 2).await;
    let gone = plant(&fakes, me, doomed.id, sample::BASIL, (0, 0)).await;
    let stays = plant(&fakes, me, kept.id, sample::BASIL, (0, 0)).await;
    let use_cases = fakes.use_cases();
    for planting in [gone.id, stays.id] {
        use_cases
            .gardens
            .add_event(me, planting, event(EventKind::Watered))
            .await
            .unwrap();
    }

    use_cases.gardens.delete(me, doomed.id).await.unwrap();

    assert_eq!(fakes.gardens.gardens(), [kept]);
    assert_eq!(fakes.plantings.plantings(), std::slice::from_ref(&stays));
    let events = fakes.plantings.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].planting_id, stays.id);
}

#[tokio::test]
async fn deleting_another_owners_garden_is_not_found_and_keeps_it() {
    let fakes = Fakes::new();
    let me = owner(1);
    let created = garden(&fakes, me, 2, 2).await;

    for stranger in strangers_of(me) {
        let refused = fakes.use_cases().gardens.delete(stranger, created.id).await;
        assert!(matches!(refused, Err(GardenError::NotFound)), "{refused:?}");
    }
    assert_eq!(fakes.gardens.gardens(), [created]);
}

#[tokio::test]
async fn deleting_a_garden_during_an_outage_fails_as_unavailable_and_keeps_it() {
    let fakes = Fakes::new();
    let me = owner(1);
    let created = garden(&fakes, me, 2, 2).await;
    fakes.outage.begin();

    let failed = fakes.use_cases().gardens.delete(me, created.id).await;

    assert!(
        matches!(failed, Err(GardenError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
    assert_eq!(fakes.gardens.gardens(), [created]);
}

// --- add_planting -------------------------------------------------------------------------

#[tokio::test]
async fn a_planting_is_placed_on_a_cell_of_the_grid_with_its_status_and_day() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;
    let day = NaiveDate::from_ymd_opt(2025, 12, 30).unwrap();

    let planting = fakes
        .use_cases()
        .gardens
        .add_planting(
            me,
            plot.id,
            NewPlanting {
                catalog_plant_id: sample::TOMATO,
                cell: Cell { x: 2, y: 1 },
                status: PlantingStatus::Active,
                planted_on: Some(day),
            },
        )
        .await
        .unwrap();

    assert_eq!(planting.id, PlantingId::from_uuid(SequentialIds::nth(2)));
    assert_eq!(
        (planting.tenant_id, planting.owner),
        (me.tenant_id, me.user_id)
    );
    assert_eq!(planting.garden_id, plot.id);
    assert_eq!(planting.catalog_plant_id, sample::TOMATO);
    assert_eq!(planting.cell, Cell { x: 2, y: 1 });
    assert_eq!(planting.status, PlantingStatus::Active);
    assert_eq!(planting.planted_on, Some(day));
    assert_eq!((planting.created_at, planting.updated_at), (START, START));
    assert_eq!(fakes.plantings.plantings(), [planting]);
    assert!(fakes.compliance.entries().is_empty());
}

#[tokio::test]
async fn a_cell_off_the_grid_is_refused_with_the_grids_size() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;

    for (x, y) in [(3, 0), (0, 2), (3, 2)] {
        let refused = fakes
            .use_cases()
            .gardens
            .add_planting(me, plot.id, at(sample::TOMATO, x, y))
            .await;
        assert!(
            matches!(
                refused,
                Err(CreatePlantingError::OutsideGrid {
                    width: 3,
                    length: 2
                })
            ),
            "({x}, {y}): {refused:?}"
        );
    }
    assert!(fakes.plantings.plantings().is_empty());
}

#[tokio::test]
async fn a_planting_in_another_owners_garden_is_refused_as_garden_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;

    for stranger in strangers_of(me) {
        let refused = fakes
            .use_cases()
            .gardens
            .add_planting(stranger, plot.id, at(sample::TOMATO, 0, 0))
            .await;
        assert!(
            matches!(refused, Err(CreatePlantingError::GardenNotFound)),
            "{refused:?}"
        );
    }
    assert!(fakes.plantings.plantings().is_empty());
}

#[tokio::test]
async fn an_unknown_species_is_refused() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;
    let unknown = CatalogPlantId::from_uuid(Uuid::from_u128(42));

    let refused = fakes
        .use_cases()
        .gardens
        .add_planting(me, plot.id, at(unknown, 0, 0))
        .await;

    assert!(
        matches!(refused, Err(CreatePlantingError::UnknownCatalogPlant)),
        "{refused:?}"
    );
    assert!(fakes.plantings.plantings().is_empty());
}

#[tokio::test]
async fn a_garden_holds_at_most_its_cap_of_planned_and_active_plantings() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;
    let cap = u128::from(MAX_PLANTINGS_PER_GARDEN);
    for n in 0..cap - 1 {
        let status = if n % 2 == 0 {
            PlantingStatus::Planned
        } else {
            PlantingStatus::Active
        };
        fakes.plantings.insert(seeded(me, plot.id, n, status));
    }
    // Harvested and removed plantings leave their cell: they do not count.
    fakes
        .plantings
        .insert(seeded(me, plot.id, cap, PlantingStatus::Harvested));
    fakes
        .plantings
        .insert(seeded(me, plot.id, cap + 1, PlantingStatus::Removed));
    let gardens = fakes.use_cases().gardens;

    let last = gardens
        .add_planting(me, plot.id, at(sample::TOMATO, 1, 1))
        .await;
    assert!(last.is_ok(), "{last:?}");
    let refused = gardens
        .add_planting(me, plot.id, at(sample::TOMATO, 1, 1))
        .await;

    assert!(
        matches!(refused, Err(CreatePlantingError::GardenFull)),
        "{refused:?}"
    );
    assert_eq!(
        fakes.plantings.plantings().len(),
        usize::try_from(cap + 2).unwrap()
    );
}

#[tokio::test]
async fn a_planting_into_a_garden_deleted_meanwhile_is_refused_as_garden_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;
    let gardens = fakes.gardens.clone();
    let id = plot.id;
    fakes.gardens.before_next_write(move || {
        gardens.remove(id);
    });

    let refused = fakes
        .use_cases()
        .gardens
        .add_planting(me, plot.id, at(sample::TOMATO, 0, 0))
        .await;

    assert!(
        matches!(refused, Err(CreatePlantingError::GardenNotFound)),
        "{refused:?}"
    );
    assert!(fakes.plantings.plantings().is_empty());
}

#[tokio::test]
async fn a_restricted_crop_is_refused_while_enforcement_is_on_audited_and_its_planter_flagged() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;
    fakes.clock.advance(TimeDelta::minutes(1));
    let use_cases = fakes.use_cases();

    let refused = use_cases
        .gardens
        .add_planting(me, plot.id, at(sample::KUDZU, 0, 0))
        .await;

    match refused {
        Err(CreatePlantingError::Restricted { reason }) => assert_eq!(reason, KUDZU_REASON),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(fakes.plantings.plantings().is_empty());
    let entries = fakes.compliance.entries();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.id, SequentialIds::nth(3));
    assert_eq!((entry.tenant_id, entry.user_id), (me.tenant_id, me.user_id));
    assert_eq!(entry.garden_id, plot.id);
    assert_eq!(entry.catalog_plant_id, sample::KUDZU);
    assert_eq!(entry.planting_id, None);
    assert_eq!(entry.decision, ComplianceDecision::Blocked);
    assert_eq!(entry.reason, KUDZU_REASON);
    assert_eq!(entry.created_at, START + TimeDelta::minutes(1));
    assert!(fakes.compliance.is_flagged(me));
    assert_eq!(violations(&use_cases, ComplianceAction::Blocked), 1);
    assert_eq!(violations(&use_cases, ComplianceAction::Logged), 0);
}

#[tokio::test]
async fn a_restricted_crop_is_planted_and_audited_while_enforcement_is_off() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;
    fakes.flags.set(Flag::ComplianceEnforcement, false);
    let use_cases = fakes.use_cases();

    let planting = use_cases
        .gardens
        .add_planting(me, plot.id, at(sample::KUDZU, 1, 1))
        .await
        .unwrap();

    assert_eq!(fakes.plantings.plantings(), std::slice::from_ref(&planting));
    let entries = fakes.compliance.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].decision, ComplianceDecision::Allowed);
    assert_eq!(entries[0].planting_id, Some(planting.id));
    assert_eq!(entries[0].reason, KUDZU_REASON);
    assert_eq!(fakes.compliance.flagged(), [me]);
    assert_eq!(violations(&use_cases, ComplianceAction::Logged), 1);
    assert_eq!(violations(&use_cases, ComplianceAction::Blocked), 0);
}

#[tokio::test]
async fn a_restricted_crop_into_a_garden_deleted_meanwhile_is_refused_and_not_audited() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;
    fakes.flags.set(Flag::ComplianceEnforcement, false);
    let gardens = fakes.gardens.clone();
    let id = plot.id;
    fakes.gardens.before_next_write(move || {
        gardens.remove(id);
    });
    let use_cases = fakes.use_cases();

    let refused = use_cases
        .gardens
        .add_planting(me, plot.id, at(sample::KUDZU, 1, 1))
        .await;

    assert!(
        matches!(refused, Err(CreatePlantingError::GardenNotFound)),
        "{refused:?}"
    );
    assert!(fakes.plantings.plantings().is_empty());
    assert!(fakes.compliance.entries().is_empty());
    assert!(!fakes.compliance.is_flagged(me));
    assert_eq!(violations(&use_cases, ComplianceAction::Logged), 0);
}

#[tokio::test]
async fn adding_a_planting_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;
    fakes.outage.begin();

    let failed = fakes
        .use_cases()
        .gardens
        .add_planting(me, plot.id, at(sample::TOMATO, 0, 0))
        .await;

    assert!(
        matches!(
            failed,
            Err(CreatePlantingError::Failed(Failure::Unavailable(_)))
        ),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_corrupt_catalog_fails_a_planting_as_unexpected() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;
    fakes.catalog.add_plant(corrupt_species());

    let failed = fakes
        .use_cases()
        .gardens
        .add_planting(me, plot.id, at(sample::TOMATO, 0, 0))
        .await;

    assert!(
        matches!(
            failed,
            Err(CreatePlantingError::Failed(Failure::Unexpected(_)))
        ),
        "{failed:?}"
    );
}

// --- plantings ----------------------------------------------------------------------------

#[tokio::test]
async fn a_gardens_plantings_list_oldest_first_by_status_in_pages() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let other_plot = garden(&fakes, me, 3, 3).await;
    let first = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    let second = plant(&fakes, me, plot.id, sample::BASIL, (1, 0)).await;
    plant(&fakes, me, other_plot.id, sample::BASIL, (1, 0)).await;
    let third = plant(&fakes, me, plot.id, sample::CARROT, (2, 0)).await;
    move_to(&fakes, me, second.id, PlantingStatus::Active).await;
    let gardens = fakes.use_cases().gardens;

    let page = gardens
        .plantings(
            me,
            plot.id,
            None,
            PageRequest {
                limit: 2,
                after: None,
            },
        )
        .await
        .unwrap();
    let ids: Vec<PlantingId> = page.items.iter().map(|p| p.id).collect();
    assert_eq!(ids, [first.id, second.id]);
    assert_eq!(page.next_after, Some(second.id.as_uuid()));
    let rest = gardens
        .plantings(
            me,
            plot.id,
            None,
            PageRequest {
                limit: 2,
                after: page.next_after,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items, std::slice::from_ref(&third));

    let planned = gardens
        .plantings(
            me,
            plot.id,
            Some(PlantingStatus::Planned),
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(planned.items, [first, third]);
}

#[tokio::test]
async fn the_plantings_of_another_owners_garden_are_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;

    for stranger in strangers_of(me) {
        let refused = fakes
            .use_cases()
            .gardens
            .plantings(stranger, plot.id, None, PageRequest::default())
            .await;
        assert!(matches!(refused, Err(GardenError::NotFound)), "{refused:?}");
    }
}

#[tokio::test]
async fn listing_plantings_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    fakes.outage.begin();

    let failed = fakes
        .use_cases()
        .gardens
        .plantings(me, plot.id, None, PageRequest::default())
        .await;

    assert!(
        matches!(failed, Err(GardenError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
}

// --- update_planting ----------------------------------------------------------------------

#[tokio::test]
async fn a_planting_moves_along_its_life() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    let gardens = fakes.use_cases().gardens;

    for status in [PlantingStatus::Active, PlantingStatus::Harvested] {
        fakes.clock.advance(TimeDelta::days(30));
        let moved = gardens
            .update_planting(
                me,
                planting.id,
                PlantingChanges {
                    status: Some(status),
                    ..PlantingChanges::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(moved.status, status);
        assert_eq!(fakes.plantings.get(planting.id).unwrap(), moved);
    }
    let stored = fakes.plantings.get(planting.id).unwrap();
    assert_eq!(stored.updated_at, START + TimeDelta::days(60));
    assert_eq!(stored.cell, planting.cell);
}

#[tokio::test]
async fn a_move_outside_a_plantings_life_is_refused_and_changes_nothing() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;

    let refused = fakes
        .use_cases()
        .gardens
        .update_planting(
            me,
            planting.id,
            PlantingChanges {
                status: Some(PlantingStatus::Harvested),
                cell: Some(Cell { x: 1, y: 1 }),
                planted_on: None,
            },
        )
        .await;

    assert!(
        matches!(
            refused,
            Err(UpdatePlantingError::StatusMove(RefusedStatusMove {
                from: PlantingStatus::Planned,
                to: PlantingStatus::Harvested
            }))
        ),
        "{refused:?}"
    );
    assert_eq!(fakes.plantings.get(planting.id).unwrap(), planting);
}

#[tokio::test]
async fn a_planting_moves_to_another_cell_of_its_garden_and_records_its_day() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    let day = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();

    let moved = fakes
        .use_cases()
        .gardens
        .update_planting(
            me,
            planting.id,
            PlantingChanges {
                status: None,
                cell: Some(Cell { x: 2, y: 2 }),
                planted_on: Some(day),
            },
        )
        .await
        .unwrap();

    assert_eq!(moved.cell, Cell { x: 2, y: 2 });
    assert_eq!(moved.planted_on, Some(day));
    assert_eq!(moved.status, PlantingStatus::Planned);
    assert_eq!(fakes.plantings.get(planting.id).unwrap(), moved);
}

#[tokio::test]
async fn a_move_to_a_cell_off_the_grid_is_refused_with_the_grids_size() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;

    let refused = fakes
        .use_cases()
        .gardens
        .update_planting(
            me,
            planting.id,
            PlantingChanges {
                cell: Some(Cell { x: 0, y: 2 }),
                ..PlantingChanges::default()
            },
        )
        .await;

    assert!(
        matches!(
            refused,
            Err(UpdatePlantingError::OutsideGrid {
                width: 3,
                length: 2
            })
        ),
        "{refused:?}"
    );
    assert_eq!(fakes.plantings.get(planting.id).unwrap(), planting);
}

#[tokio::test]
async fn a_change_to_another_owners_planting_is_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;

    for stranger in strangers_of(me) {
        for changes in [
            PlantingChanges {
                status: Some(PlantingStatus::Active),
                ..PlantingChanges::default()
            },
            PlantingChanges {
                cell: Some(Cell { x: 1, y: 1 }),
                ..PlantingChanges::default()
            },
        ] {
            let refused = fakes
                .use_cases()
                .gardens
                .update_planting(stranger, planting.id, changes)
                .await;
            assert!(
                matches!(refused, Err(UpdatePlantingError::NotFound)),
                "{refused:?}"
            );
        }
    }
    assert_eq!(fakes.plantings.get(planting.id).unwrap(), planting);
}

#[tokio::test]
async fn a_planting_whose_garden_is_gone_is_not_found_when_moved_to_a_cell() {
    let fakes = Fakes::new();
    let me = owner(1);
    let orphan = seeded(
        me,
        GardenId::from_uuid(Uuid::from_u128(5)),
        1,
        PlantingStatus::Planned,
    );
    fakes.plantings.insert(orphan.clone());

    let refused = fakes
        .use_cases()
        .gardens
        .update_planting(
            me,
            orphan.id,
            PlantingChanges {
                cell: Some(Cell { x: 0, y: 0 }),
                ..PlantingChanges::default()
            },
        )
        .await;

    assert!(
        matches!(refused, Err(UpdatePlantingError::NotFound)),
        "{refused:?}"
    );
}

/// Queues a racing move of `planting` to `status` before the next write.
fn race_to(fakes: &Fakes, planting: PlantingId, status: PlantingStatus) {
    let plantings = fakes.plantings.clone();
    fakes.plantings.before_next_write(move || {
        let mut raced = plantings.get(planting).unwrap();
        raced.status = status;
        plantings.insert(raced);
    });
}

#[tokio::test]
async fn a_move_is_judged_again_against_the_status_a_racing_move_left() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    race_to(&fakes, planting.id, PlantingStatus::Active);

    // The racing move made it active: moving on to removed is still a move of its life.
    let moved = fakes
        .use_cases()
        .gardens
        .update_planting(
            me,
            planting.id,
            PlantingChanges {
                status: Some(PlantingStatus::Removed),
                ..PlantingChanges::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(moved.status, PlantingStatus::Removed);
    assert_eq!(
        fakes.plantings.get(planting.id).unwrap().status,
        PlantingStatus::Removed
    );
}

#[tokio::test]
async fn a_move_a_racing_move_made_impossible_is_refused() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    race_to(&fakes, planting.id, PlantingStatus::Removed);

    let refused = fakes
        .use_cases()
        .gardens
        .update_planting(
            me,
            planting.id,
            PlantingChanges {
                status: Some(PlantingStatus::Active),
                ..PlantingChanges::default()
            },
        )
        .await;

    assert!(
        matches!(
            refused,
            Err(UpdatePlantingError::StatusMove(RefusedStatusMove {
                from: PlantingStatus::Removed,
                to: PlantingStatus::Active
            }))
        ),
        "{refused:?}"
    );
    assert_eq!(
        fakes.plantings.get(planting.id).unwrap().status,
        PlantingStatus::Removed
    );
}

#[tokio::test]
async fn a_planting_whose_status_keeps_changing_under_a_change_fails_as_unexpected() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    for status in [
        PlantingStatus::Active,
        PlantingStatus::Planned,
        PlantingStatus::Active,
    ] {
        race_to(&fakes, planting.id, status);
    }

    let failed = fakes
        .use_cases()
        .gardens
        .update_planting(
            me,
            planting.id,
            PlantingChanges {
                planted_on: NaiveDate::from_ymd_opt(2026, 1, 1),
                ..PlantingChanges::default()
            },
        )
        .await;

    assert!(
        matches!(
            failed,
            Err(UpdatePlantingError::Failed(Failure::Unexpected(_)))
        ),
        "{failed:?}"
    );
    assert_eq!(fakes.plantings.get(planting.id).unwrap().planted_on, None);
}

#[tokio::test]
async fn changing_a_planting_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    fakes.outage.begin();

    for changes in [
        PlantingChanges::default(),
        PlantingChanges {
            cell: Some(Cell { x: 1, y: 1 }),
            ..PlantingChanges::default()
        },
    ] {
        let failed = fakes
            .use_cases()
            .gardens
            .update_planting(me, planting.id, changes)
            .await;
        assert!(
            matches!(
                failed,
                Err(UpdatePlantingError::Failed(Failure::Unavailable(_)))
            ),
            "{failed:?}"
        );
    }
}

// --- planting, events, delete_planting, add_event -------------------------------------------

#[tokio::test]
async fn a_planting_is_read_by_its_owner_only() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    let gardens = fakes.use_cases().gardens;

    assert_eq!(gardens.planting(me, planting.id).await.unwrap(), planting);
    for stranger in strangers_of(me) {
        let read = gardens.planting(stranger, planting.id).await;
        assert!(matches!(read, Err(PlantingError::NotFound)), "{read:?}");
    }
    fakes.outage.begin();
    let failed = gardens.planting(me, planting.id).await;
    assert!(
        matches!(failed, Err(PlantingError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
}

#[tokio::test]
async fn an_event_is_recorded_now_unless_told_when() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    fakes.clock.advance(TimeDelta::hours(2));
    let now = START + TimeDelta::hours(2);
    let gardens = fakes.use_cases().gardens;

    let watered = gardens
        .add_event(me, planting.id, event(EventKind::Watered))
        .await
        .unwrap();
    let yesterday = now - TimeDelta::days(1);
    let sown = gardens
        .add_event(
            me,
            planting.id,
            NewEvent {
                kind: EventKind::Sown,
                occurred_at: Some(yesterday),
                notes: Some(EventNotes::parse("two seeds per hole").unwrap()),
            },
        )
        .await
        .unwrap();

    assert_eq!(watered.kind, EventKind::Watered);
    assert_eq!((watered.occurred_at, watered.created_at), (now, now));
    assert_eq!(watered.planting_id, planting.id);
    assert_eq!(
        (watered.tenant_id, watered.owner),
        (me.tenant_id, me.user_id)
    );
    assert_eq!(sown.occurred_at, yesterday);
    assert_eq!(sown.created_at, now);
    assert_eq!(
        sown.notes.as_ref().map(EventNotes::as_str),
        Some("two seeds per hole")
    );
    assert_eq!(fakes.plantings.events(), [watered, sown]);
}

#[tokio::test]
async fn an_event_for_another_owners_planting_is_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;

    for stranger in strangers_of(me) {
        let refused = fakes
            .use_cases()
            .gardens
            .add_event(stranger, planting.id, event(EventKind::Note))
            .await;
        assert!(
            matches!(refused, Err(PlantingError::NotFound)),
            "{refused:?}"
        );
    }
    assert!(fakes.plantings.events().is_empty());
}

#[tokio::test]
async fn an_event_for_a_planting_deleted_meanwhile_is_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    let plantings = fakes.plantings.clone();
    let id = planting.id;
    fakes.plantings.before_next_write(move || {
        plantings.remove(id);
    });

    let refused = fakes
        .use_cases()
        .gardens
        .add_event(me, planting.id, event(EventKind::Pruned))
        .await;

    assert!(
        matches!(refused, Err(PlantingError::NotFound)),
        "{refused:?}"
    );
    assert!(fakes.plantings.events().is_empty());
}

#[tokio::test]
async fn recording_an_event_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    fakes.outage.begin();

    let failed = fakes
        .use_cases()
        .gardens
        .add_event(me, planting.id, event(EventKind::Fertilized))
        .await;

    assert!(
        matches!(failed, Err(PlantingError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_plantings_events_list_in_recording_order_in_pages_for_its_owner_only() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    let other = plant(&fakes, me, plot.id, sample::BASIL, (1, 0)).await;
    let gardens = fakes.use_cases().gardens;
    let mut recorded = Vec::new();
    for kind in [EventKind::Sown, EventKind::Watered, EventKind::Harvested] {
        recorded.push(
            gardens
                .add_event(me, planting.id, event(kind))
                .await
                .unwrap(),
        );
        gardens.add_event(me, other.id, event(kind)).await.unwrap();
    }

    let page = gardens
        .events(
            me,
            planting.id,
            PageRequest {
                limit: 2,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items, recorded[..2]);
    let rest = gardens
        .events(
            me,
            planting.id,
            PageRequest {
                limit: 2,
                after: page.next_after,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items, recorded[2..]);
    assert_eq!(rest.next_after, None);

    for stranger in strangers_of(me) {
        let refused = gardens
            .events(stranger, planting.id, PageRequest::default())
            .await;
        assert!(
            matches!(refused, Err(PlantingError::NotFound)),
            "{refused:?}"
        );
    }
    fakes.outage.begin();
    let failed = gardens
        .events(me, planting.id, PageRequest::default())
        .await;
    assert!(
        matches!(failed, Err(PlantingError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
}

#[tokio::test]
async fn deleting_a_planting_takes_its_events_along() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let doomed = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    let kept = plant(&fakes, me, plot.id, sample::BASIL, (1, 0)).await;
    let gardens = fakes.use_cases().gardens;
    for planting in [doomed.id, kept.id] {
        gardens
            .add_event(me, planting, event(EventKind::Watered))
            .await
            .unwrap();
    }

    gardens.delete_planting(me, doomed.id).await.unwrap();

    assert_eq!(fakes.plantings.plantings(), std::slice::from_ref(&kept));
    let events = fakes.plantings.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].planting_id, kept.id);
}

#[tokio::test]
async fn deleting_another_owners_planting_is_not_found_and_keeps_it() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 3).await;
    let planting = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    let gardens = fakes.use_cases().gardens;

    for stranger in strangers_of(me) {
        let refused = gardens.delete_planting(stranger, planting.id).await;
        assert!(
            matches!(refused, Err(PlantingError::NotFound)),
            "{refused:?}"
        );
    }
    fakes.outage.begin();
    let failed = gardens.delete_planting(me, planting.id).await;
    assert!(
        matches!(failed, Err(PlantingError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
    fakes.outage.end();
    assert_eq!(fakes.plantings.plantings(), [planting]);
}

// --- analyse ------------------------------------------------------------------------------

#[tokio::test]
async fn the_rule_engine_reports_neighbours_shared_cells_plantings_off_the_grid_and_restricted_crops()
 {
    let fakes = Fakes::new();
    let me = owner(1);
    fakes.flags.set(Flag::ComplianceEnforcement, false);
    let plot = garden(&fakes, me, 4, 4).await;
    let tomato = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    let basil = plant(&fakes, me, plot.id, sample::BASIL, (1, 0)).await;
    let fennel = plant(&fakes, me, plot.id, sample::FENNEL, (0, 1)).await;
    let carrot = plant(&fakes, me, plot.id, sample::CARROT, (2, 2)).await;
    let carrot_too = plant(&fakes, me, plot.id, sample::CARROT, (2, 2)).await;
    let kudzu = plant(&fakes, me, plot.id, sample::KUDZU, (3, 0)).await;
    let far_basil = plant(&fakes, me, plot.id, sample::BASIL, (3, 3)).await;
    // Harvested: no longer next to the tomato.
    let harvested = plant(&fakes, me, plot.id, sample::FENNEL, (1, 1)).await;
    move_to(&fakes, me, harvested.id, PlantingStatus::Active).await;
    move_to(&fakes, me, harvested.id, PlantingStatus::Harvested).await;
    let use_cases = fakes.use_cases();
    use_cases
        .gardens
        .update(
            me,
            plot.id,
            GardenChanges {
                length: Some(side(3)),
                ..GardenChanges::default()
            },
        )
        .await
        .unwrap();

    let analysis = use_cases.gardens.analyse(me, plot.id).await.unwrap();

    let found: Vec<(Rule, Severity, Vec<PlantingId>)> = analysis
        .findings
        .iter()
        .map(|finding| (finding.rule, finding.severity, finding.planting_ids.clone()))
        .collect();
    assert_eq!(
        found,
        [
            (
                Rule::AntagonisticNeighbours,
                Severity::Warning,
                vec![tomato.id, fennel.id]
            ),
            (
                Rule::BeneficialNeighbours,
                Severity::Info,
                vec![tomato.id, basil.id]
            ),
            (
                Rule::SharedCell,
                Severity::Error,
                vec![carrot.id, carrot_too.id]
            ),
            (Rule::OutOfGrid, Severity::Error, vec![far_basil.id]),
            (Rule::RestrictedCrop, Severity::Error, vec![kudzu.id]),
        ]
    );
    assert_eq!(analysis.note, None);
    let timed: Vec<Rule> = analysis
        .rule_durations
        .iter()
        .map(|(rule, _)| *rule)
        .collect();
    assert_eq!(timed, Rule::ALL);
    for rule in Rule::ALL {
        assert_eq!(rule_runs(&use_cases, rule), 1, "{rule:?}");
    }
}

#[tokio::test]
async fn with_the_rule_engine_off_an_analysis_has_no_findings_and_says_why() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 2, 1).await;
    plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    plant(&fakes, me, plot.id, sample::FENNEL, (1, 0)).await;
    fakes.flags.set(Flag::RuleEngine, false);
    let use_cases = fakes.use_cases();

    let analysis = use_cases.gardens.analyse(me, plot.id).await.unwrap();

    assert!(analysis.findings.is_empty());
    assert_eq!(analysis.note, Some(RULE_ENGINE_OFF));
    assert!(analysis.rule_durations.is_empty());
    assert!(
        Rule::ALL
            .into_iter()
            .all(|rule| rule_runs(&use_cases, rule) == 0)
    );
}

#[tokio::test]
async fn an_analysis_of_another_owners_garden_is_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 2, 1).await;

    for stranger in strangers_of(me) {
        let refused = fakes.use_cases().gardens.analyse(stranger, plot.id).await;
        assert!(matches!(refused, Err(GardenError::NotFound)), "{refused:?}");
    }
}

#[tokio::test]
async fn an_analysis_fails_as_unavailable_during_an_outage_and_as_unexpected_on_a_corrupt_catalog()
{
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 2, 1).await;
    let gardens = fakes.use_cases().gardens;

    fakes.catalog.add_plant(corrupt_species());
    let failed = gardens.analyse(me, plot.id).await;
    assert!(
        matches!(failed, Err(GardenError::Failed(Failure::Unexpected(_)))),
        "{failed:?}"
    );

    fakes.outage.begin();
    let failed = gardens.analyse(me, plot.id).await;
    assert!(
        matches!(failed, Err(GardenError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
}

// --- layout -------------------------------------------------------------------------------

#[tokio::test]
async fn the_layout_shows_the_first_planned_or_active_planting_of_each_cell() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 3, 2).await;
    let tomato = plant(&fakes, me, plot.id, sample::TOMATO, (0, 0)).await;
    let first_carrot = plant(&fakes, me, plot.id, sample::CARROT, (2, 1)).await;
    plant(&fakes, me, plot.id, sample::BASIL, (2, 1)).await;
    let removed = plant(&fakes, me, plot.id, sample::BASIL, (1, 0)).await;
    move_to(&fakes, me, removed.id, PlantingStatus::Removed).await;
    move_to(&fakes, me, first_carrot.id, PlantingStatus::Active).await;
    // A species no longer in the catalog is drawn without a name.
    let mut unnamed = seeded(me, plot.id, 1, PlantingStatus::Planned);
    unnamed.catalog_plant_id = CatalogPlantId::from_uuid(Uuid::from_u128(42));
    unnamed.cell = Cell { x: 1, y: 1 };
    fakes.plantings.insert(unnamed.clone());

    let layout = fakes.use_cases().gardens.layout(me, plot.id).await.unwrap();

    assert_eq!(layout.garden, plot);
    let cell = |planting: &Planting, common_name: &str, status| {
        Some(LayoutCell {
            planting_id: planting.id,
            catalog_plant_id: planting.catalog_plant_id,
            common_name: common_name.to_owned(),
            status,
        })
    };
    assert_eq!(
        layout.rows,
        [
            vec![cell(&tomato, "Tomato", PlantingStatus::Planned), None, None],
            vec![
                None,
                cell(&unnamed, "", PlantingStatus::Planned),
                cell(&first_carrot, "Carrot", PlantingStatus::Active),
            ],
        ]
    );
}

#[tokio::test]
async fn the_layout_of_another_owners_garden_is_not_found() {
    let fakes = Fakes::new();
    let me = owner(1);
    let plot = garden(&fakes, me, 2, 1).await;
    let gardens = fakes.use_cases().gardens;

    for stranger in strangers_of(me) {
        let refused = gardens.layout(stranger, plot.id).await;
        assert!(matches!(refused, Err(GardenError::NotFound)), "{refused:?}");
    }
    fakes.outage.begin();
    let failed = gardens.layout(me, plot.id).await;
    assert!(
        matches!(failed, Err(GardenError::Failed(Failure::Unavailable(_)))),
        "{failed:?}"
    );
}

// --- compliance_audit ---------------------------------------------------------------------

#[tokio::test]
async fn a_tenants_compliance_audit_lists_its_entries_newest_first() {
    let fakes = Fakes::new();
    let (me, other) = (owner(1), owner(2));
    let mine = garden(&fakes, me, 2, 2).await;
    let theirs = garden(&fakes, other, 2, 2).await;
    let gardens = fakes.use_cases().gardens;
    for (who, plot) in [(me, &mine), (other, &theirs), (me, &mine)] {
        let refused = gardens
            .add_planting(who, plot.id, at(sample::KUDZU, 0, 0))
            .await;
        assert!(matches!(
            refused,
            Err(CreatePlantingError::Restricted { .. })
        ));
    }

    let audit = gardens
        .compliance_audit(me.tenant_id, PageRequest::default())
        .await
        .unwrap();

    let recorded = fakes.compliance.entries();
    assert_eq!(audit.items, [recorded[2].clone(), recorded[0].clone()]);
    assert!(
        audit
            .items
            .iter()
            .all(|entry| entry.tenant_id == me.tenant_id)
    );
    fakes.outage.begin();
    let failed = gardens
        .compliance_audit(me.tenant_id, PageRequest::default())
        .await;
    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
}

#[test]
fn a_compliance_decision_goes_by_its_stored_name() {
    for decision in [ComplianceDecision::Blocked, ComplianceDecision::Allowed] {
        assert_eq!(ComplianceDecision::parse(decision.as_str()), Some(decision));
    }
    assert_eq!(ComplianceDecision::Blocked.as_str(), "blocked");
    assert_eq!(ComplianceDecision::Allowed.as_str(), "allowed");
    assert_eq!(ComplianceDecision::parse("logged"), None);
}
