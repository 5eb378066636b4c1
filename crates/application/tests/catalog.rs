//! The catalog use cases over the fakes: species with their companions, personalities, search,
//! paging, and the snapshot cached under the catalog's revision.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::BTreeMap;

use domain::catalog::{
    CatalogPlant, CatalogPlantId, CompanionKind, CompanionLink, Light, Personality, PersonalityId,
    PersonalityKey,
};
use plant_texts_application::{
    catalog::{CatalogEntryError, CatalogSearch, Companion},
    paging::PageRequest,
    store::StoreError,
    testing::{
        Fakes,
        catalog::{sample, sample_snapshot},
        system::SequentialIds,
    },
};
use uuid::Uuid;

fn search(text: &str) -> CatalogSearch {
    CatalogSearch::parse(text).unwrap().unwrap()
}

fn page(limit: u64, after: Option<Uuid>) -> PageRequest {
    PageRequest { limit, after }
}

/// The common names of `plants`, in order.
fn names(plants: &[CatalogPlant]) -> Vec<&str> {
    plants
        .iter()
        .map(|plant| plant.common_name.as_str())
        .collect()
}

/// The keys of `personalities`, in order.
fn keys(personalities: &[Personality]) -> Vec<&str> {
    personalities
        .iter()
        .map(|personality| personality.key.as_str())
        .collect()
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

fn companion(id: CatalogPlantId, name: &str, kind: CompanionKind, reason: &str) -> Companion {
    Companion {
        catalog_plant_id: id,
        common_name: name.to_owned(),
        kind,
        reason: reason.to_owned(),
    }
}

// --- list ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_catalog_lists_every_species_in_creation_order() {
    let fakes = Fakes::new();

    let listed = fakes
        .use_cases()
        .catalog
        .list(None, PageRequest::default())
        .await
        .unwrap();

    assert_eq!(
        names(&listed.items),
        ["Tomato", "Basil", "Fennel", "Carrot", "Kudzu"]
    );
    assert_eq!(listed.items, sample_snapshot().plants);
    assert_eq!(listed.next_after, None);
}

#[tokio::test]
async fn pages_continue_after_the_last_species_seen() {
    let catalog = Fakes::new().use_cases().catalog;

    let first = catalog.list(None, page(2, None)).await.unwrap();
    assert_eq!(names(&first.items), ["Tomato", "Basil"]);
    assert_eq!(first.next_after, Some(sample::BASIL.as_uuid()));

    let second = catalog.list(None, page(2, first.next_after)).await.unwrap();
    assert_eq!(names(&second.items), ["Fennel", "Carrot"]);

    let last = catalog
        .list(None, page(2, second.next_after))
        .await
        .unwrap();
    assert_eq!(names(&last.items), ["Kudzu"]);
    assert_eq!(last.next_after, None);
}

#[tokio::test]
async fn a_search_matches_common_and_scientific_names_whatever_their_case() {
    let catalog = Fakes::new().use_cases().catalog;

    let by_common = catalog
        .list(Some(&search("  BASIL ")), PageRequest::default())
        .await
        .unwrap();
    let by_scientific = catalog
        .list(Some(&search("montana")), PageRequest::default())
        .await
        .unwrap();
    let nothing = catalog
        .list(Some(&search("orchid")), PageRequest::default())
        .await
        .unwrap();

    assert_eq!(names(&by_common.items), ["Basil"]);
    assert_eq!(names(&by_scientific.items), ["Kudzu"]);
    assert!(nothing.items.is_empty());
    assert_eq!(nothing.next_after, None);
}

#[tokio::test]
async fn a_search_pages_through_the_matching_species_only() {
    let catalog = Fakes::new().use_cases().catalog;
    // "ar": Fennel (Foeniculum vulgare), Carrot and Kudzu (Pueraria montana).
    let filter = search("ar");

    let first = catalog.list(Some(&filter), page(2, None)).await.unwrap();
    assert_eq!(names(&first.items), ["Fennel", "Carrot"]);
    assert_eq!(first.next_after, Some(sample::CARROT.as_uuid()));
    let rest = catalog
        .list(Some(&filter), page(2, first.next_after))
        .await
        .unwrap();
    assert_eq!(names(&rest.items), ["Kudzu"]);
    assert_eq!(rest.next_after, None);
}

#[tokio::test]
async fn listing_the_catalog_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    fakes.outage.begin();

    let failed = fakes
        .use_cases()
        .catalog
        .list(None, PageRequest::default())
        .await;

    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_corrupt_catalog_fails_a_listing_as_unexpected() {
    let fakes = Fakes::new();
    fakes.catalog.add_plant(corrupt_species());

    let failed = fakes
        .use_cases()
        .catalog
        .list(None, PageRequest::default())
        .await;

    assert!(
        matches!(failed, Err(StoreError::Unexpected(_))),
        "{failed:?}"
    );
}

// --- entry --------------------------------------------------------------------------------

#[tokio::test]
async fn an_entry_shows_its_companions_by_common_name() {
    let catalog = Fakes::new().use_cases().catalog;

    let tomato = catalog.entry(sample::TOMATO).await.unwrap();

    assert_eq!(tomato.plant.common_name, "Tomato");
    assert_eq!(
        tomato.companions,
        [
            companion(
                sample::BASIL,
                "Basil",
                CompanionKind::Beneficial,
                "Basil repels thrips and whiteflies and is said to improve tomato flavour."
            ),
            companion(
                sample::CARROT,
                "Carrot",
                CompanionKind::Beneficial,
                "Carrots loosen the soil around tomato roots."
            ),
            companion(
                sample::FENNEL,
                "Fennel",
                CompanionKind::Antagonistic,
                "Fennel releases compounds that inhibit the growth of most garden plants."
            ),
        ]
    );
}

#[tokio::test]
async fn a_relationship_shows_on_both_of_its_sides() {
    let catalog = Fakes::new().use_cases().catalog;

    let fennel = catalog.entry(sample::FENNEL).await.unwrap();
    let kudzu = catalog.entry(sample::KUDZU).await.unwrap();

    assert_eq!(
        fennel.companions,
        [companion(
            sample::TOMATO,
            "Tomato",
            CompanionKind::Antagonistic,
            "Fennel releases compounds that inhibit the growth of most garden plants."
        )]
    );
    assert!(kudzu.companions.is_empty());
    assert!(kudzu.plant.is_restricted());
}

#[tokio::test]
async fn a_companion_missing_from_the_catalog_is_left_out() {
    let fakes = Fakes::new();
    fakes.catalog.add_companion(CompanionLink {
        plant: sample::BASIL,
        companion: CatalogPlantId::from_uuid(Uuid::from_u128(42)),
        kind: CompanionKind::Beneficial,
        reason: "A ghost.".to_owned(),
    });

    let basil = fakes
        .use_cases()
        .catalog
        .entry(sample::BASIL)
        .await
        .unwrap();

    let names: Vec<&str> = basil
        .companions
        .iter()
        .map(|companion| companion.common_name.as_str())
        .collect();
    assert_eq!(names, ["Tomato"]);
}

#[tokio::test]
async fn an_unknown_species_has_no_entry() {
    let catalog = Fakes::new().use_cases().catalog;

    let missing = catalog
        .entry(CatalogPlantId::from_uuid(Uuid::from_u128(42)))
        .await;

    assert!(
        matches!(missing, Err(CatalogEntryError::NotFound)),
        "{missing:?}"
    );
}

#[tokio::test]
async fn an_entry_fails_as_unavailable_during_an_outage_and_as_unexpected_on_a_corrupt_catalog() {
    let fakes = Fakes::new();
    let catalog = fakes.use_cases().catalog;

    fakes.catalog.add_plant(corrupt_species());
    let failed = catalog.entry(sample::TOMATO).await;
    assert!(
        matches!(
            failed,
            Err(CatalogEntryError::Store(StoreError::Unexpected(_)))
        ),
        "{failed:?}"
    );

    fakes.outage.begin();
    let failed = catalog.entry(sample::TOMATO).await;
    assert!(
        matches!(
            failed,
            Err(CatalogEntryError::Store(StoreError::Unavailable(_)))
        ),
        "{failed:?}"
    );
}

// --- personalities ------------------------------------------------------------------------

#[tokio::test]
async fn personalities_page_in_id_order() {
    let fakes = Fakes::new();
    // Added last: first by key, last by id.
    fakes.catalog.add_personality(Personality {
        id: PersonalityId::from_uuid(SequentialIds::nth(500)),
        key: PersonalityKey::parse("aardvark").unwrap(),
        name: "Aardvark".to_owned(),
        description: "Digs.".to_owned(),
        system_prompt: "You are an aardvark.".to_owned(),
        templates: BTreeMap::new(),
    });
    let catalog = fakes.use_cases().catalog;

    let first = catalog.personalities(page(3, None)).await.unwrap();
    assert_eq!(
        keys(&first.items),
        ["chill_friend", "drama_queen", "grumpy_cactus"]
    );
    assert_eq!(first.next_after, Some(sample::GRUMPY_CACTUS.as_uuid()));

    let rest = catalog
        .personalities(page(3, first.next_after))
        .await
        .unwrap();
    assert_eq!(keys(&rest.items), ["sunny_optimist", "aardvark"]);
    assert_eq!(rest.next_after, None);
}

#[tokio::test]
async fn a_personality_is_found_by_its_key() {
    let catalog = Fakes::new().use_cases().catalog;

    let found = catalog
        .personality(&PersonalityKey::parse("drama_queen").unwrap())
        .await
        .unwrap()
        .unwrap();
    let missing = catalog
        .personality(&PersonalityKey::parse("wise_elder").unwrap())
        .await
        .unwrap();

    assert_eq!(found.id, sample::DRAMA_QUEEN);
    assert_eq!(found.name, "Drama Queen");
    assert_eq!(missing, None);
}

#[tokio::test]
async fn personalities_during_an_outage_fail_as_unavailable() {
    let fakes = Fakes::new();
    let catalog = fakes.use_cases().catalog;
    fakes.outage.begin();

    let page = catalog.personalities(PageRequest::default()).await;
    let one = catalog
        .personality(&PersonalityKey::parse("drama_queen").unwrap())
        .await;

    assert!(matches!(page, Err(StoreError::Unavailable(_))), "{page:?}");
    assert!(matches!(one, Err(StoreError::Unavailable(_))), "{one:?}");
}

// --- the cached snapshot ------------------------------------------------------------------

#[tokio::test]
async fn reads_are_served_from_the_cached_snapshot_until_the_catalog_changes() {
    let fakes = Fakes::new();
    let catalog = fakes.use_cases().catalog;

    catalog.list(None, PageRequest::default()).await.unwrap();
    catalog.entry(sample::TOMATO).await.unwrap();
    catalog.personalities(PageRequest::default()).await.unwrap();
    assert_eq!(fakes.catalog.snapshot_reads(), 1);
    assert_eq!(fakes.catalog_cache.puts(), 1);
    let cached = fakes.catalog_cache.cached_revision().unwrap();

    fakes.catalog.edit(|catalog| {
        if let Some(basil) = catalog.plants.iter_mut().find(|p| p.id == sample::BASIL) {
            basil.common_name = "Sweet basil".to_owned();
        }
    });
    let listed = catalog.list(None, PageRequest::default()).await.unwrap();

    assert_eq!(names(&listed.items)[1], "Sweet basil");
    assert_eq!(fakes.catalog.snapshot_reads(), 2);
    assert_ne!(fakes.catalog_cache.cached_revision().unwrap(), cached);
}

#[tokio::test]
async fn a_snapshot_cached_by_one_instance_serves_another() {
    let fakes = Fakes::new();
    let (one, other) = (fakes.use_cases(), fakes.use_cases());

    one.catalog
        .list(None, PageRequest::default())
        .await
        .unwrap();
    other.catalog.entry(sample::BASIL).await.unwrap();

    assert_eq!(fakes.catalog.snapshot_reads(), 1);
}

#[tokio::test]
async fn an_unreachable_cache_costs_a_store_read_per_request_but_never_an_answer() {
    let fakes = Fakes::new();
    fakes.catalog_cache.set_unreachable(true);
    let catalog = fakes.use_cases().catalog;

    for _ in 0..2 {
        let listed = catalog.list(None, PageRequest::default()).await.unwrap();
        assert_eq!(listed.items.len(), 5);
    }

    assert_eq!(fakes.catalog.snapshot_reads(), 2);
    assert_eq!(fakes.catalog_cache.puts(), 0);
    fakes.catalog_cache.set_unreachable(false);
    catalog.list(None, PageRequest::default()).await.unwrap();
    catalog.list(None, PageRequest::default()).await.unwrap();
    assert_eq!(fakes.catalog.snapshot_reads(), 3);
    assert_eq!(fakes.catalog_cache.puts(), 1);
}
