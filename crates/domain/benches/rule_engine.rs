//! The rule engine on gardens of 100, 1,000 and 10,000 plantings (docs/capacity-planning.md).
//!
//! `cargo xtask bench` runs it; the plantings are spread over a 200 × 200 grid by a fixed
//! pseudo-random sequence, with the seeded catalog's kind of companion relationships.
#![expect(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]
#![expect(clippy::expect_used, reason = "set-up of a benchmark fails loudly")]

use std::hint::black_box;

use chrono::Utc;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use plant_texts_domain::{
    catalog::{CatalogPlant, CatalogPlantId, CompanionKind, CompanionLink, Light, PersonalityKey},
    gardens::{
        Cell, GardenId, Planting, PlantingId, PlantingStatus,
        rules::{GardenLayout, SpeciesBook},
    },
    identity::{TenantId, UserId},
};
use uuid::Uuid;

const SPECIES: u128 = 40;

fn book() -> SpeciesBook {
    let personality = PersonalityKey::parse("chill_friend").expect("a valid key");
    let plants: Vec<CatalogPlant> = (0..SPECIES)
        .map(|i| CatalogPlant {
            id: CatalogPlantId::from_uuid(Uuid::from_u128(i + 1)),
            common_name: format!("Plant {i}"),
            scientific_name: format!("Planta {i}"),
            watering_interval_days: 3,
            light: Light::FullSun,
            default_personality: personality.clone(),
            restricted_reason: (i == 0).then(|| "invasive".to_owned()),
        })
        .collect();
    let links: Vec<CompanionLink> = (1..SPECIES)
        .flat_map(|i| {
            [(i, (i * 7) % SPECIES), (i, (i * 13) % SPECIES)]
                .into_iter()
                .enumerate()
                .map(|(n, (a, b))| CompanionLink {
                    plant: CatalogPlantId::from_uuid(Uuid::from_u128(a + 1)),
                    companion: CatalogPlantId::from_uuid(Uuid::from_u128(b + 1)),
                    kind: if n == 0 {
                        CompanionKind::Beneficial
                    } else {
                        CompanionKind::Antagonistic
                    },
                    reason: "because".to_owned(),
                })
        })
        .collect();
    SpeciesBook::new(&plants, &links)
}

fn garden(plantings: u64) -> Vec<Planting> {
    let now = Utc::now();
    // A fixed linear congruential sequence: the same garden on every run.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    (0..plantings)
        .map(|i| Planting {
            id: PlantingId::from_uuid(Uuid::from_u128(u128::from(i) + 1)),
            tenant_id: TenantId::from_uuid(Uuid::nil()),
            owner: UserId::from_uuid(Uuid::nil()),
            garden_id: GardenId::from_uuid(Uuid::nil()),
            catalog_plant_id: CatalogPlantId::from_uuid(Uuid::from_u128(
                u128::from(next()) % SPECIES + 1,
            )),
            cell: Cell {
                x: u32::try_from(next() % 200).unwrap_or(0),
                y: u32::try_from(next() % 200).unwrap_or(0),
            },
            status: if i % 10 == 0 {
                PlantingStatus::Harvested
            } else {
                PlantingStatus::Active
            },
            planted_on: None,
            created_at: now,
            updated_at: now,
        })
        .collect()
}

fn analyse_gardens(c: &mut Criterion) {
    let book = book();
    let mut group = c.benchmark_group("rule_engine_200x200");
    for size in [100_u64, 1_000, 10_000] {
        let plantings = garden(size);
        group.bench_with_input(
            BenchmarkId::from_parameter(size),
            &plantings,
            |b, plantings| {
                b.iter(|| {
                    let layout = GardenLayout::new(200, 200, black_box(plantings));
                    black_box(layout.all_findings(&book))
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, analyse_gardens);
criterion_main!(benches);
