use chrono::Utc;
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::{
    catalog::{Light, PersonalityKey},
    gardens::{GardenId, PlantingStatus},
    identity::{TenantId, UserId},
};

fn species(index: u128) -> CatalogPlantId {
    CatalogPlantId::from_uuid(Uuid::from_u128(index + 1))
}

fn catalog_plant(index: u128, restricted: bool) -> CatalogPlant {
    CatalogPlant {
        id: species(index),
        common_name: format!("Plant {index}"),
        scientific_name: format!("Planta {index}"),
        watering_interval_days: 3,
        light: Light::FullSun,
        default_personality: PersonalityKey::parse("chill_friend").unwrap(),
        restricted_reason: restricted.then(|| "invasive".to_owned()),
    }
}

fn link(one: u128, other: u128, kind: CompanionKind) -> CompanionLink {
    CompanionLink {
        plant: species(one),
        companion: species(other),
        kind,
        reason: format!("{one} and {other}"),
    }
}

fn planting(id: u128, plant: u128, x: u32, y: u32, status: PlantingStatus) -> Planting {
    let now = Utc::now();
    Planting {
        id: PlantingId::from_uuid(Uuid::from_u128(id)),
        tenant_id: TenantId::from_uuid(Uuid::nil()),
        owner: UserId::from_uuid(Uuid::nil()),
        garden_id: GardenId::from_uuid(Uuid::nil()),
        catalog_plant_id: species(plant),
        cell: Cell { x, y },
        status,
        planted_on: None,
        created_at: now,
        updated_at: now,
    }
}

use PlantingStatus::{Active, Harvested, Planned, Removed};

/// Tomato (0), basil (1, beneficial with tomato), fennel (2, antagonistic with tomato), kudzu
/// (3, restricted).
fn kitchen_book() -> SpeciesBook {
    SpeciesBook::new(
        &[
            catalog_plant(0, false),
            catalog_plant(1, false),
            catalog_plant(2, false),
            catalog_plant(3, true),
        ],
        &[
            link(0, 1, CompanionKind::Beneficial),
            link(2, 0, CompanionKind::Antagonistic),
        ],
    )
}

fn ids(findings: &[Finding]) -> Vec<Vec<u128>> {
    findings
        .iter()
        .map(|finding| {
            finding
                .planting_ids
                .iter()
                .map(|id| id.as_uuid().as_u128())
                .collect()
        })
        .collect()
}

fn run(rule: Rule, width: u32, length: u32, plantings: &[Planting]) -> Vec<Vec<u128>> {
    ids(&GardenLayout::new(width, length, plantings).findings(rule, &kitchen_book()))
}

#[test]
fn all_eight_surrounding_cells_are_neighbours_and_the_next_ring_is_not() {
    let mut plantings = vec![planting(100, 0, 5, 5, Active)];
    let mut expected = Vec::new();
    let mut id = 0;
    for y in 3..=7 {
        for x in 3..=7 {
            if (x, y) == (5, 5) {
                continue;
            }
            id += 1;
            plantings.push(planting(id, 2, x, y, Active));
            if x.abs_diff(5) <= 1 && y.abs_diff(5) <= 1 {
                expected.push(vec![id, 100]);
            }
        }
    }
    expected.sort();
    assert_eq!(expected.len(), 8);
    assert_eq!(
        run(Rule::AntagonisticNeighbours, 10, 10, &plantings),
        expected
    );
}

#[test]
fn neighbour_rules_need_a_relationship_of_their_kind_in_either_direction() {
    let plantings = [
        planting(1, 0, 0, 0, Active),
        planting(2, 1, 1, 0, Planned),
        planting(3, 2, 0, 1, Active),
        planting(4, 3, 5, 5, Active),
    ];
    assert_eq!(
        run(Rule::BeneficialNeighbours, 10, 10, &plantings),
        vec![vec![1, 2]]
    );
    assert_eq!(
        run(Rule::AntagonisticNeighbours, 10, 10, &plantings),
        vec![vec![1, 3]]
    );
    let finding = &GardenLayout::new(10, 10, &plantings)
        .findings(Rule::AntagonisticNeighbours, &kitchen_book())[0];
    assert_eq!(finding.severity, Severity::Warning);
    assert!(finding.message.contains("Plant 0"), "{}", finding.message);
    assert!(finding.message.contains("2 and 0"), "{}", finding.message);
}

#[test]
fn a_pair_linked_both_ways_with_different_kinds_gives_both_findings() {
    let book = SpeciesBook::new(
        &[catalog_plant(0, false), catalog_plant(1, false)],
        &[
            link(0, 1, CompanionKind::Beneficial),
            link(1, 0, CompanionKind::Antagonistic),
        ],
    );
    let plantings = [planting(1, 0, 0, 0, Active), planting(2, 1, 1, 0, Active)];
    let layout = GardenLayout::new(3, 3, &plantings);
    assert_eq!(
        ids(&layout.findings(Rule::BeneficialNeighbours, &book)),
        vec![vec![1, 2]]
    );
    assert_eq!(
        ids(&layout.findings(Rule::AntagonisticNeighbours, &book)),
        vec![vec![1, 2]]
    );
}

#[test]
fn plantings_sharing_a_cell_give_shared_cell_only() {
    let plantings = [
        planting(1, 0, 2, 2, Active),
        planting(2, 2, 2, 2, Planned),
        planting(3, 0, 2, 2, Active),
    ];
    assert_eq!(run(Rule::SharedCell, 4, 4, &plantings), vec![vec![1, 2, 3]]);
    assert!(run(Rule::AntagonisticNeighbours, 4, 4, &plantings).is_empty());
}

#[test]
fn harvested_and_removed_plantings_count_for_no_rule() {
    let plantings = [
        planting(1, 0, 0, 0, Active),
        planting(2, 2, 1, 1, Harvested),
        planting(3, 3, 0, 0, Removed),
        planting(4, 3, 9, 9, Harvested),
    ];
    let layout = GardenLayout::new(2, 2, &plantings);
    assert!(layout.all_findings(&kitchen_book()).is_empty());
    assert_eq!(layout.at(Cell { x: 0, y: 0 }).len(), 1);
}

#[test]
fn the_last_row_and_column_are_in_the_grid_and_the_next_ones_are_not() {
    let plantings = [
        planting(1, 0, 3, 2, Active),
        planting(2, 0, 4, 0, Active),
        planting(3, 0, 0, 3, Planned),
        planting(4, 0, 4, 3, Harvested),
    ];
    assert_eq!(
        run(Rule::OutOfGrid, 4, 3, &plantings),
        vec![vec![2], vec![3]]
    );
}

#[test]
fn plantings_outside_the_grid_are_nobodys_neighbours_and_share_no_cell() {
    let plantings = [
        planting(1, 0, 1, 1, Active),
        planting(2, 2, 2, 1, Active),
        planting(3, 2, 2, 1, Active),
    ];
    // The garden shrank to 2 × 2: (2, 1) is outside.
    assert!(run(Rule::AntagonisticNeighbours, 2, 2, &plantings).is_empty());
    assert!(run(Rule::SharedCell, 2, 2, &plantings).is_empty());
    assert_eq!(
        run(Rule::OutOfGrid, 2, 2, &plantings),
        vec![vec![2], vec![3]]
    );
}

#[test]
fn restricted_crops_are_reported_inside_and_outside_the_grid() {
    let plantings = [
        planting(1, 3, 0, 0, Planned),
        planting(2, 3, 7, 7, Active),
        planting(3, 0, 1, 0, Active),
    ];
    let findings =
        GardenLayout::new(2, 2, &plantings).findings(Rule::RestrictedCrop, &kitchen_book());
    assert_eq!(ids(&findings), vec![vec![1], vec![2]]);
    assert!(findings.iter().all(|f| f.severity == Severity::Error));
    assert!(findings[0].message.contains("invasive"));
}

#[test]
fn severities_are_those_of_the_contract() {
    assert_eq!(Rule::BeneficialNeighbours.severity(), Severity::Info);
    assert_eq!(Rule::AntagonisticNeighbours.severity(), Severity::Warning);
    for rule in [Rule::SharedCell, Rule::OutOfGrid, Rule::RestrictedCrop] {
        assert_eq!(rule.severity(), Severity::Error);
    }
}

#[test]
fn rows_hold_the_first_planting_of_each_cell() {
    let plantings = [
        planting(9, 0, 1, 0, Active),
        planting(3, 1, 1, 0, Planned),
        planting(5, 2, 0, 1, Removed),
    ];
    let rows = GardenLayout::new(2, 3, &plantings).rows();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|row| row.len() == 2));
    assert_eq!(rows[0][1].map(|p| p.id.as_uuid().as_u128()), Some(3));
    assert!(rows[1][0].is_none());
}

#[test]
fn an_empty_garden_has_no_findings() {
    assert!(
        GardenLayout::new(1, 1, &[])
            .all_findings(&kitchen_book())
            .is_empty()
    );
}

/// The all-pairs reference the spatial index must agree with.
fn reference(width: u32, length: u32, plantings: &[Planting], book: &SpeciesBook) -> Vec<Finding> {
    let counting: Vec<&Planting> = plantings
        .iter()
        .filter(|p| p.status.occupies_cell())
        .collect();
    let inside = |p: &Planting| p.cell.x < width && p.cell.y < length;
    let mut findings = Vec::new();
    for (i, one) in counting.iter().enumerate() {
        for other in &counting[i + 1..] {
            if !inside(one) || !inside(other) {
                continue;
            }
            let near =
                one.cell.x.abs_diff(other.cell.x) <= 1 && one.cell.y.abs_diff(other.cell.y) <= 1;
            if near && one.cell != other.cell {
                for kind in [CompanionKind::Beneficial, CompanionKind::Antagonistic] {
                    if let Some(reason) =
                        book.relationship(one.catalog_plant_id, other.catalog_plant_id, kind)
                    {
                        findings.push(neighbour_finding(kind, one, other, reason, book));
                    }
                }
            }
        }
    }
    let mut cells: Vec<(Cell, Vec<PlantingId>)> = Vec::new();
    for p in counting.iter().filter(|p| inside(p)) {
        match cells.iter_mut().find(|(cell, _)| *cell == p.cell) {
            Some((_, ids)) => ids.push(p.id),
            None => cells.push((p.cell, vec![p.id])),
        }
    }
    for (_, ids) in cells.into_iter().filter(|(_, ids)| ids.len() > 1) {
        findings.push(Finding::new(Rule::SharedCell, String::new(), ids));
    }
    for p in &counting {
        if !inside(p) {
            findings.push(Finding::new(Rule::OutOfGrid, String::new(), vec![p.id]));
        }
        if book.restriction(p.catalog_plant_id).is_some() {
            findings.push(Finding::new(
                Rule::RestrictedCrop,
                String::new(),
                vec![p.id],
            ));
        }
    }
    findings
}

/// Findings without their messages, in one order, for comparison.
fn comparable(findings: Vec<Finding>) -> Vec<(Rule, Severity, Vec<PlantingId>)> {
    let mut keys: Vec<_> = findings
        .into_iter()
        .map(|f| (f.rule, f.severity, f.planting_ids))
        .collect();
    keys.sort();
    keys
}

fn random_garden() -> impl Strategy<Value = (u32, u32, Vec<Planting>, SpeciesBook)> {
    let species_count = 1_u128..6;
    (1_u32..12, 1_u32..12, species_count).prop_flat_map(|(width, length, species_count)| {
        // Cells up to 3 beyond each side: plantings left outside a garden that shrank.
        let one_planting = (
            0..species_count,
            0..width + 3,
            0..length + 3,
            prop::sample::select(PlantingStatus::ALL.to_vec()),
        );
        let links =
            prop::collection::vec((0..species_count, 0..species_count, any::<bool>()), 0..6);
        let restricted = prop::collection::vec(any::<bool>(), species_count as usize);
        (
            Just(width),
            Just(length),
            prop::collection::vec(one_planting, 0..60),
            links,
            restricted,
        )
            .prop_map(|(width, length, plantings, links, restricted)| {
                let plantings = plantings
                    .into_iter()
                    .enumerate()
                    .map(|(i, (plant, x, y, status))| planting(i as u128 + 1, plant, x, y, status))
                    .collect();
                let plants: Vec<CatalogPlant> = restricted
                    .iter()
                    .enumerate()
                    .map(|(i, restricted)| catalog_plant(i as u128, *restricted))
                    .collect();
                // One relationship per ordered pair of species at most, as the catalog's unique
                // key allows: A -> B and B -> A may differ in kind.
                let mut seen = Vec::new();
                let links: Vec<CompanionLink> = links
                    .into_iter()
                    .filter(|(a, b, _)| {
                        let new = !seen.contains(&(*a, *b));
                        seen.push((*a, *b));
                        new
                    })
                    .map(|(a, b, good)| {
                        let kind = if good {
                            CompanionKind::Beneficial
                        } else {
                            CompanionKind::Antagonistic
                        };
                        link(a, b, kind)
                    })
                    .collect();
                (width, length, plantings, SpeciesBook::new(&plants, &links))
            })
    })
}

proptest! {
    #[test]
    fn the_spatial_index_finds_exactly_what_comparing_all_pairs_finds(
        (width, length, plantings, book) in random_garden()
    ) {
        let indexed = GardenLayout::new(width, length, &plantings).all_findings(&book);
        prop_assert_eq!(comparable(indexed), comparable(reference(width, length, &plantings, &book)));
    }

    #[test]
    fn a_crowded_small_garden_agrees_with_all_pairs_too(
        plantings in prop::collection::vec((0_u128..3, 0_u32..3, 0_u32..3), 0..40)
    ) {
        let plantings: Vec<Planting> = plantings
            .into_iter()
            .enumerate()
            .map(|(i, (plant, x, y))| planting(i as u128 + 1, plant, x, y, Active))
            .collect();
        let book = kitchen_book();
        let indexed = GardenLayout::new(2, 2, &plantings).all_findings(&book);
        prop_assert_eq!(comparable(indexed), comparable(reference(2, 2, &plantings, &book)));
    }
}
