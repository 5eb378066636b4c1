//! The plant catalog in memory — species, personalities and companion relationships, with a
//! revision that moves on every change — and the cache snapshots are kept in.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use async_trait::async_trait;
use domain::{
    catalog::{
        CatalogPlant, CatalogPlantId, CompanionKind, CompanionLink, Light, Personality,
        PersonalityId, PersonalityKey,
    },
    chat::Intent,
};
use uuid::Uuid;

use super::{Outage, lock};
use crate::{
    catalog::ports::{
        CacheError, CatalogCache, CatalogRepository, CatalogRevision, CatalogSnapshot,
    },
    store::StoreError,
};

/// A small, realistic catalog from the seed: four personalities, five species (Kudzu
/// restricted) and three companion relationships of Tomato. Its ids are fixed, so tests name
/// them with the constants here.
pub mod sample {
    use super::{CatalogPlantId, PersonalityId, Uuid};

    /// Ids of the sample: v7 UUIDs dated 2025-01-01, before anything a test creates.
    const fn id(n: u128) -> Uuid {
        const PREFIX: u128 = (1_735_689_600_000 << 80) | (0x7 << 76) | (0b10 << 62);
        Uuid::from_u128(PREFIX | n)
    }

    /// Tomato (drama queen): Basil and Carrot are good neighbours, Fennel a bad one.
    pub const TOMATO: CatalogPlantId = CatalogPlantId::from_uuid(id(1));
    /// Basil (sunny optimist).
    pub const BASIL: CatalogPlantId = CatalogPlantId::from_uuid(id(2));
    /// Fennel (grumpy cactus).
    pub const FENNEL: CatalogPlantId = CatalogPlantId::from_uuid(id(3));
    /// Carrot (chill friend).
    pub const CARROT: CatalogPlantId = CatalogPlantId::from_uuid(id(4));
    /// Kudzu (grumpy cactus), a restricted noxious weed.
    pub const KUDZU: CatalogPlantId = CatalogPlantId::from_uuid(id(5));

    /// The `chill_friend` personality.
    pub const CHILL_FRIEND: PersonalityId = PersonalityId::from_uuid(id(101));
    /// The `drama_queen` personality.
    pub const DRAMA_QUEEN: PersonalityId = PersonalityId::from_uuid(id(102));
    /// The `grumpy_cactus` personality.
    pub const GRUMPY_CACTUS: PersonalityId = PersonalityId::from_uuid(id(103));
    /// The `sunny_optimist` personality.
    pub const SUNNY_OPTIMIST: PersonalityId = PersonalityId::from_uuid(id(104));
}

type Templates<'a> = &'a [(Intent, &'a [&'a str])];

fn personality(
    id: PersonalityId,
    key: &str,
    name: &str,
    description: &str,
    templates: Templates<'_>,
) -> Option<Personality> {
    Some(Personality {
        id,
        key: PersonalityKey::parse(key).ok()?,
        name: name.to_owned(),
        description: description.to_owned(),
        system_prompt: format!(
            "You are a house plant texting your owner, as a {name}. Keep replies under 300 \
             characters."
        ),
        templates: templates
            .iter()
            .map(|(intent, lines)| {
                (
                    *intent,
                    lines.iter().map(|line| (*line).to_owned()).collect(),
                )
            })
            .collect(),
    })
}

fn plant(
    id: CatalogPlantId,
    names: (&str, &str),
    watering_interval_days: u32,
    light: Light,
    personality: &str,
    restricted_reason: Option<&str>,
) -> Option<CatalogPlant> {
    Some(CatalogPlant {
        id,
        common_name: names.0.to_owned(),
        scientific_name: names.1.to_owned(),
        watering_interval_days,
        light,
        default_personality: PersonalityKey::parse(personality).ok()?,
        restricted_reason: restricted_reason.map(str::to_owned),
    })
}

fn link(
    plant: CatalogPlantId,
    companion: CatalogPlantId,
    kind: CompanionKind,
    reason: &str,
) -> CompanionLink {
    CompanionLink {
        plant,
        companion,
        kind,
        reason: reason.to_owned(),
    }
}

/// The sample catalog (see [`sample`]).
#[must_use]
pub fn sample_snapshot() -> CatalogSnapshot {
    use sample::{
        BASIL, CARROT, CHILL_FRIEND, DRAMA_QUEEN, FENNEL, GRUMPY_CACTUS, KUDZU, SUNNY_OPTIMIST,
        TOMATO,
    };
    let personalities = [
        personality(
            CHILL_FRIEND,
            "chill_friend",
            "Chill Friend",
            "Laid-back and easy-going; never panics, even when thirsty.",
            &[
                (
                    Intent::Greeting,
                    &["Hey! {nickname} here, just vibing in my pot."],
                ),
                (
                    Intent::Water,
                    &["No rush, but my soil's getting a bit dry."],
                ),
                (Intent::Default, &["Cool cool. Tell me more."]),
            ],
        ),
        personality(
            DRAMA_QUEEN,
            "drama_queen",
            "Drama Queen",
            "Theatrical and over the top; every dry spell is a tragedy.",
            &[
                (
                    Intent::Greeting,
                    &["{nickname} has entered the chat. Applause, please."],
                ),
                (Intent::Water, &["I am PARCHED. A desert. Water, please!"]),
                (
                    Intent::Default,
                    &["Fascinating. But have you considered me?"],
                ),
            ],
        ),
        personality(
            GRUMPY_CACTUS,
            "grumpy_cactus",
            "Grumpy Cactus",
            "Prickly, sarcastic and secretly fond of you.",
            &[
                (Intent::Greeting, &["Oh. It's you. Hi, I guess."]),
                (Intent::Default, &["Riveting.", "Mm-hm. Anything else?"]),
            ],
        ),
        personality(
            SUNNY_OPTIMIST,
            "sunny_optimist",
            "Sunny Optimist",
            "Relentlessly cheerful; finds the bright side of every leaf.",
            &[
                (
                    Intent::Light,
                    &["More sun, more fun! Could you move me closer to the window?"],
                ),
                (Intent::Default, &["Wonderful! Tell me everything!"]),
            ],
        ),
    ];
    let plants = [
        plant(
            TOMATO,
            ("Tomato", "Solanum lycopersicum"),
            2,
            Light::FullSun,
            "drama_queen",
            None,
        ),
        plant(
            BASIL,
            ("Basil", "Ocimum basilicum"),
            2,
            Light::FullSun,
            "sunny_optimist",
            None,
        ),
        plant(
            FENNEL,
            ("Fennel", "Foeniculum vulgare"),
            4,
            Light::FullSun,
            "grumpy_cactus",
            None,
        ),
        plant(
            CARROT,
            ("Carrot", "Daucus carota subsp. sativus"),
            3,
            Light::FullSun,
            "chill_friend",
            None,
        ),
        plant(
            KUDZU,
            ("Kudzu", "Pueraria montana"),
            7,
            Light::FullSun,
            "grumpy_cactus",
            Some(
                "Federal noxious weed in the United States: invasive vine that smothers native vegetation.",
            ),
        ),
    ];
    CatalogSnapshot {
        plants: plants.into_iter().flatten().collect(),
        companions: vec![
            link(
                TOMATO,
                BASIL,
                CompanionKind::Beneficial,
                "Basil repels thrips and whiteflies and is said to improve tomato flavour.",
            ),
            link(
                TOMATO,
                FENNEL,
                CompanionKind::Antagonistic,
                "Fennel releases compounds that inhibit the growth of most garden plants.",
            ),
            link(
                TOMATO,
                CARROT,
                CompanionKind::Beneficial,
                "Carrots loosen the soil around tomato roots.",
            ),
        ],
        personalities: personalities.into_iter().flatten().collect(),
    }
}

/// The stored catalog and its revision.
#[derive(Debug, Clone)]
struct Stored {
    catalog: CatalogSnapshot,
    revision: u64,
}

impl Default for Stored {
    fn default() -> Self {
        Self {
            catalog: CatalogSnapshot {
                plants: Vec::new(),
                companions: Vec::new(),
                personalities: Vec::new(),
            },
            revision: 1,
        }
    }
}

/// In-memory [`CatalogRepository`]. The snapshot lists species by id and personalities by key,
/// companions in the order they were added; every change moves the revision, as the database's
/// triggers do; a species naming an unknown personality makes the snapshot fail as corrupt
/// data. Clones share the catalog.
#[derive(Debug, Clone, Default)]
pub struct InMemoryCatalog {
    outage: Outage,
    stored: Arc<Mutex<Stored>>,
    snapshot_reads: Arc<AtomicUsize>,
}

impl InMemoryCatalog {
    /// An empty catalog, down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            ..Self::default()
        }
    }

    /// The sample catalog ([`sample`]), down while `outage` lasts.
    #[must_use]
    pub fn sample(outage: Outage) -> Self {
        let catalog = Self::new(outage);
        catalog.replace(sample_snapshot());
        catalog
    }

    fn change(&self, change: impl FnOnce(&mut CatalogSnapshot)) {
        let mut stored = lock(&self.stored);
        change(&mut stored.catalog);
        stored.revision += 1;
    }

    /// Adds a species.
    pub fn add_plant(&self, plant: CatalogPlant) {
        self.change(|catalog| catalog.plants.push(plant));
    }

    /// Adds a personality.
    pub fn add_personality(&self, personality: Personality) {
        self.change(|catalog| catalog.personalities.push(personality));
    }

    /// Adds a companion relationship.
    pub fn add_companion(&self, link: CompanionLink) {
        self.change(|catalog| catalog.companions.push(link));
    }

    /// Replaces the whole catalog.
    pub fn replace(&self, catalog: CatalogSnapshot) {
        self.change(|stored| *stored = catalog);
    }

    /// Edits the catalog in place (a reason or a text changed): the revision moves.
    pub fn edit(&self, edit: impl FnOnce(&mut CatalogSnapshot)) {
        self.change(edit);
    }

    /// The catalog as stored, in the order it was filled.
    #[must_use]
    pub fn stored(&self) -> CatalogSnapshot {
        lock(&self.stored).catalog.clone()
    }

    /// The species with this common name.
    #[must_use]
    pub fn plant_named(&self, common_name: &str) -> Option<CatalogPlant> {
        lock(&self.stored)
            .catalog
            .plants
            .iter()
            .find(|plant| plant.common_name == common_name)
            .cloned()
    }

    /// How many whole snapshots were read (a cache hit reads none).
    #[must_use]
    pub fn snapshot_reads(&self) -> usize {
        self.snapshot_reads.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl CatalogRepository for InMemoryCatalog {
    async fn revision(&self) -> Result<CatalogRevision, StoreError> {
        self.outage.check()?;
        Ok(CatalogRevision(lock(&self.stored).revision.to_string()))
    }

    async fn snapshot(&self) -> Result<CatalogSnapshot, StoreError> {
        self.outage.check()?;
        self.snapshot_reads.fetch_add(1, Ordering::SeqCst);
        let mut snapshot = lock(&self.stored).catalog.clone();
        let keys: BTreeSet<&PersonalityKey> = snapshot
            .personalities
            .iter()
            .map(|personality| &personality.key)
            .collect();
        if snapshot
            .plants
            .iter()
            .any(|plant| !keys.contains(&plant.default_personality))
        {
            return Err(StoreError::Unexpected(
                "a species names an unknown personality".into(),
            ));
        }
        snapshot.plants.sort_by_key(|plant| plant.id);
        snapshot.personalities.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(snapshot)
    }
}

/// The snapshot a cache holds, with its revision.
type Cached = Option<(CatalogRevision, Arc<CatalogSnapshot>)>;

/// In-memory [`CatalogCache`] holding the latest snapshot only, as the in-process cache does.
/// During the outage, or while [`InMemoryCatalogCache::set_unreachable`] says so, every call
/// fails with [`CacheError`] (a Redis cache down). Clones share it.
#[derive(Debug, Clone, Default)]
pub struct InMemoryCatalogCache {
    outage: Outage,
    unreachable: Outage,
    latest: Arc<Mutex<Cached>>,
    puts: Arc<AtomicUsize>,
}

impl InMemoryCatalogCache {
    /// An empty cache, failing while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            ..Self::default()
        }
    }

    /// The revision of the snapshot cached now.
    #[must_use]
    pub fn cached_revision(&self) -> Option<CatalogRevision> {
        lock(&self.latest)
            .as_ref()
            .map(|(revision, _)| revision.clone())
    }

    /// How many snapshots were cached.
    #[must_use]
    pub fn puts(&self) -> usize {
        self.puts.load(Ordering::SeqCst)
    }

    /// Makes the cache alone fail (`true`) or answer again (`false`), whatever the shared
    /// outage: a Redis cache down while the database is up.
    pub fn set_unreachable(&self, unreachable: bool) {
        if unreachable {
            self.unreachable.begin();
        } else {
            self.unreachable.end();
        }
    }

    fn reachable(&self) -> Result<(), CacheError> {
        self.outage
            .check()
            .and_then(|()| self.unreachable.check())
            .map_err(|error| CacheError(error.to_string()))
    }
}

#[async_trait]
impl CatalogCache for InMemoryCatalogCache {
    async fn get(
        &self,
        revision: &CatalogRevision,
    ) -> Result<Option<Arc<CatalogSnapshot>>, CacheError> {
        self.reachable()?;
        Ok(lock(&self.latest)
            .as_ref()
            .filter(|(cached, _)| cached == revision)
            .map(|(_, snapshot)| Arc::clone(snapshot)))
    }

    async fn put(
        &self,
        revision: &CatalogRevision,
        snapshot: Arc<CatalogSnapshot>,
    ) -> Result<(), CacheError> {
        self.reachable()?;
        *lock(&self.latest) = Some((revision.clone(), snapshot));
        self.puts.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sample_is_whole_and_every_change_moves_the_revision() {
        let catalog = InMemoryCatalog::sample(Outage::default());
        let snapshot = catalog.snapshot().await.unwrap();
        assert_eq!(snapshot.plants.len(), 5);
        assert_eq!(snapshot.personalities.len(), 4);
        assert!(snapshot.plant(sample::KUDZU).unwrap().is_restricted());
        let keys: Vec<&str> = snapshot
            .personalities
            .iter()
            .map(|p| p.key.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "chill_friend",
                "drama_queen",
                "grumpy_cactus",
                "sunny_optimist"
            ]
        );

        let before = catalog.revision().await.unwrap();
        catalog.edit(|catalog| catalog.companions.clear());
        assert_ne!(catalog.revision().await.unwrap(), before);
    }

    #[tokio::test]
    async fn the_cache_serves_a_snapshot_for_its_revision_only() {
        let cache = InMemoryCatalogCache::new(Outage::default());
        let (first, second) = (CatalogRevision("1".into()), CatalogRevision("2".into()));
        cache
            .put(&first, Arc::new(sample_snapshot()))
            .await
            .unwrap();
        assert!(cache.get(&first).await.unwrap().is_some());
        assert!(cache.get(&second).await.unwrap().is_none());
    }
}
