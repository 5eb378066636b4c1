//! Fake of the users' plants store: the plant rows, the species they join with, and the
//! conversations a plant's deletion takes along, kept in memory with the scoping, ordering and
//! paging of the database adapter.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use domain::{
    catalog::CatalogPlantId,
    chat::Message,
    plants::{UserPlant, UserPlantId},
};
use uuid::Uuid;

use super::{Outage, chat::InMemoryMessages, lock};
use crate::{
    chat::MessageRepository as _,
    paging::{Page, PageRequest},
    plants::{
        CatalogSummary, OwnedPlant, Owner,
        ports::{PlantColumns, UserPlantRepository},
    },
    store::StoreError,
};

/// The fake's tables, shared with the reminder-queue fake, which claims due plants from them.
#[derive(Debug, Default)]
pub(super) struct PlantTable {
    /// Every plant, whoever owns it, in insertion order.
    pub(super) plants: Vec<UserPlant>,
    /// The species plants may refer to (the catalog side of the foreign key).
    pub(super) species: BTreeMap<CatalogPlantId, CatalogSummary>,
}

impl PlantTable {
    /// `plant` joined with its species; `None` when the species is unknown (an inner join).
    fn owned(&self, plant: &UserPlant) -> Option<OwnedPlant> {
        self.species
            .get(&plant.catalog_plant_id)
            .map(|species| OwnedPlant {
                plant: plant.clone(),
                catalog: species.clone(),
            })
    }
}

/// A write another request commits meanwhile.
type Race = Box<dyn FnOnce() + Send>;

/// Writes of other requests a test queues to land between a use case's read and its write: the
/// next write of the fake holding them runs the first one, with no lock held, before it starts.
/// Clones share the queue.
#[derive(Clone, Default)]
pub(super) struct Races(Arc<Mutex<VecDeque<Race>>>);

impl std::fmt::Debug for Races {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Races").field(&lock(&self.0).len()).finish()
    }
}

impl Races {
    /// Queues `race` for a coming write.
    pub(super) fn push(&self, race: impl FnOnce() + Send + 'static) {
        lock(&self.0).push_back(Box::new(race));
    }

    /// Runs the first queued race, if any.
    pub(super) fn run_next(&self) {
        let next = lock(&self.0).pop_front();
        if let Some(race) = next {
            race();
        }
    }
}

/// Whether `plant` belongs to `owner`: tenant and user both match.
fn owned_by(plant: &UserPlant, owner: Owner) -> bool {
    plant.tenant_id == owner.tenant_id && plant.owner == owner.user_id
}

/// A store error for a write the database would refuse (a key or a constraint).
pub(super) fn refused(what: impl Into<String>) -> StoreError {
    StoreError::Unexpected(what.into().into())
}

/// Keyset paging as the adapters do it: `items` put in id order (ascending or descending), those
/// after `page.after` in that order kept, and one extra read to tell whether another page follows.
pub(super) fn keyset_page<T>(
    mut items: Vec<T>,
    page: PageRequest,
    ascending: bool,
    id_of: impl Fn(&T) -> Uuid,
) -> Page<T> {
    if ascending {
        items.sort_by_key(|item| id_of(item));
    } else {
        items.sort_by_key(|item| std::cmp::Reverse(id_of(item)));
    }
    let wanted = usize::try_from(page.limit)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let items = items
        .into_iter()
        .filter(|item| {
            page.after.is_none_or(|after| {
                if ascending {
                    id_of(item) > after
                } else {
                    id_of(item) < after
                }
            })
        })
        .take(wanted)
        .collect();
    Page::from_overfetched(items, page.limit, id_of)
}

/// In-memory [`UserPlantRepository`]: another tenant's or user's plant is not found, lists are in
/// id (creation) order with keyset paging, an update writes only the columns it names, and
/// deleting a plant deletes its conversation from the [`InMemoryMessages`] it shares.
///
/// As the database's foreign key does, it refuses a plant whose species was never added
/// ([`InMemoryUserPlants::add_species`]) or seeded with a plant. Clones share the data.
#[derive(Debug, Clone)]
pub struct InMemoryUserPlants {
    outage: Outage,
    table: Arc<Mutex<PlantTable>>,
    messages: InMemoryMessages,
    races: Races,
}

impl Default for InMemoryUserPlants {
    fn default() -> Self {
        Self::new(Outage::default())
    }
}

impl InMemoryUserPlants {
    /// An empty store with its own message store, both down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        let messages = InMemoryMessages::new(outage.clone());
        Self::with_messages(outage, messages)
    }

    /// An empty store over an existing message store: `most_recent` reads its messages, and
    /// deleting a plant deletes the plant's messages from it.
    #[must_use]
    pub fn with_messages(outage: Outage, messages: InMemoryMessages) -> Self {
        Self {
            outage,
            table: Arc::default(),
            messages,
            races: Races::default(),
        }
    }

    /// The message store the plants' conversations live in, to hand to the chat use cases.
    #[must_use]
    pub fn messages(&self) -> InMemoryMessages {
        self.messages.clone()
    }

    /// Makes a species known, so plants of it can be created.
    pub fn add_species(&self, species: CatalogSummary) {
        lock(&self.table).species.insert(species.id, species);
    }

    /// Seeds a plant with its species, bypassing the port (replacing a plant with the same id).
    pub fn insert(&self, owned: OwnedPlant) {
        let mut table = lock(&self.table);
        table.species.insert(owned.catalog.id, owned.catalog);
        table.plants.retain(|plant| plant.id != owned.plant.id);
        table.plants.push(owned.plant);
    }

    /// Every stored plant, whoever owns it, in id order.
    #[must_use]
    pub fn plants(&self) -> Vec<UserPlant> {
        let mut plants = lock(&self.table).plants.clone();
        plants.sort_by_key(|plant| plant.id);
        plants
    }

    /// The stored plant with this id, whoever owns it.
    #[must_use]
    pub fn get(&self, id: UserPlantId) -> Option<UserPlant> {
        lock(&self.table)
            .plants
            .iter()
            .find(|plant| plant.id == id)
            .cloned()
    }

    /// Deletes the plant with this id, whoever owns it, and its conversation, bypassing the port.
    /// `false` when there was none.
    pub fn remove(&self, id: UserPlantId) -> bool {
        let mut table = lock(&self.table);
        let before = table.plants.len();
        table.plants.retain(|plant| plant.id != id);
        let removed = table.plants.len() < before;
        if removed {
            self.messages.remove_plant(id);
        }
        removed
    }

    /// Runs `race` just before the next write (create, update, delete) starts: another request
    /// committing between a use case's read and its write, such as a deletion
    /// ([`InMemoryUserPlants::remove`]) racing a rename.
    pub fn before_next_write(&self, race: impl FnOnce() + Send + 'static) {
        self.races.push(race);
    }

    /// Runs `change` on the tables under their lock: how the reminder-queue fake claims due
    /// plants and writes their reminders in one step.
    pub(super) fn with_table<R>(&self, change: impl FnOnce(&mut PlantTable) -> R) -> R {
        change(&mut lock(&self.table))
    }
}

#[async_trait]
impl UserPlantRepository for InMemoryUserPlants {
    async fn create(&self, plant: &UserPlant) -> Result<(), StoreError> {
        self.races.run_next();
        self.outage.check()?;
        let mut table = lock(&self.table);
        if table.plants.iter().any(|stored| stored.id == plant.id) {
            return Err(refused(format!("duplicate user plant id {}", plant.id)));
        }
        if !table.species.contains_key(&plant.catalog_plant_id) {
            return Err(refused(format!(
                "foreign key: no catalog plant {}",
                plant.catalog_plant_id
            )));
        }
        table.plants.push(plant.clone());
        Ok(())
    }

    async fn find(&self, owner: Owner, id: UserPlantId) -> Result<Option<OwnedPlant>, StoreError> {
        self.outage.check()?;
        let table = lock(&self.table);
        Ok(table
            .plants
            .iter()
            .find(|plant| plant.id == id && owned_by(plant, owner))
            .and_then(|plant| table.owned(plant)))
    }

    async fn find_with_recent_messages(
        &self,
        owner: Owner,
        id: UserPlantId,
        count: u64,
    ) -> Result<Option<(OwnedPlant, Vec<Message>)>, StoreError> {
        let Some(owned) = self.find(owner, id).await? else {
            return Ok(None);
        };
        let recent = self.messages.recent(owner.tenant_id, id, count).await?;
        Ok(Some((owned, recent)))
    }

    async fn list(&self, owner: Owner, page: PageRequest) -> Result<Page<OwnedPlant>, StoreError> {
        self.outage.check()?;
        let table = lock(&self.table);
        let owned = table
            .plants
            .iter()
            .filter(|plant| owned_by(plant, owner))
            .filter_map(|plant| table.owned(plant))
            .collect();
        Ok(keyset_page(owned, page, true, |owned| {
            owned.plant.id.as_uuid()
        }))
    }

    async fn update(&self, plant: &UserPlant, changed: PlantColumns) -> Result<bool, StoreError> {
        self.races.run_next();
        self.outage.check()?;
        let owner = Owner {
            tenant_id: plant.tenant_id,
            user_id: plant.owner,
        };
        let mut table = lock(&self.table);
        let Some(stored) = table
            .plants
            .iter_mut()
            .find(|stored| stored.id == plant.id && owned_by(stored, owner))
        else {
            return Ok(false);
        };
        if changed.nickname {
            stored.nickname = plant.nickname.clone();
        }
        if changed.personality {
            stored.personality = plant.personality.clone();
        }
        if changed.next_reminder {
            stored.next_reminder_at = plant.next_reminder_at;
        }
        if changed.last_watered {
            stored.last_watered_at = plant.last_watered_at;
        }
        stored.updated_at = plant.updated_at;
        Ok(true)
    }

    async fn find_by_nickname(
        &self,
        owner: Owner,
        nickname: &str,
    ) -> Result<Option<UserPlant>, StoreError> {
        self.outage.check()?;
        let table = lock(&self.table);
        Ok(table
            .plants
            .iter()
            .filter(|plant| owned_by(plant, owner) && plant.is_active)
            .filter(|plant| plant.nickname.as_str().eq_ignore_ascii_case(nickname))
            .filter(|plant| table.species.contains_key(&plant.catalog_plant_id))
            .min_by_key(|plant| plant.id)
            .cloned())
    }

    async fn most_recent(&self, owner: Owner) -> Result<Option<UserPlant>, StoreError> {
        self.outage.check()?;
        let table = lock(&self.table);
        let active: Vec<&UserPlant> = table
            .plants
            .iter()
            .filter(|plant| owned_by(plant, owner) && plant.is_active)
            .filter(|plant| table.species.contains_key(&plant.catalog_plant_id))
            .collect();
        let last_talked_to = self
            .messages
            .stored()
            .into_iter()
            .filter(|stored| stored.tenant_id == owner.tenant_id)
            .filter(|stored| {
                active
                    .iter()
                    .any(|plant| plant.id == stored.message.plant_id)
            })
            .max_by_key(|stored| stored.message.id)
            .map(|stored| stored.message.plant_id);
        let plant = match last_talked_to {
            Some(id) => active.into_iter().find(|plant| plant.id == id),
            // Ids are UUID v7: the greatest is the newest plant.
            None => active.into_iter().max_by_key(|plant| plant.id),
        };
        Ok(plant.cloned())
    }

    async fn delete(&self, owner: Owner, id: UserPlantId) -> Result<bool, StoreError> {
        self.races.run_next();
        self.outage.check()?;
        let mut table = lock(&self.table);
        let before = table.plants.len();
        table
            .plants
            .retain(|plant| !(plant.id == id && owned_by(plant, owner)));
        let deleted = table.plants.len() < before;
        if deleted {
            // The conversation goes with the plant (ON DELETE CASCADE).
            self.messages.remove_plant(id);
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use domain::{
        catalog::{Light, PersonalityKey},
        chat::{Channel, Direction, Message, MessageId},
        identity::{TenantId, UserId},
        plants::Nickname,
    };

    use super::*;
    use crate::chat::MessageRepository;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn species() -> CatalogSummary {
        CatalogSummary {
            id: CatalogPlantId::from_uuid(Uuid::now_v7()),
            common_name: "Boston fern".to_owned(),
            scientific_name: "Nephrolepis exaltata".to_owned(),
            watering_interval_days: 3,
            light: Light::Medium,
        }
    }

    fn plant(
        owner: Owner,
        species: &CatalogSummary,
        nickname: &str,
    ) -> Result<UserPlant, Box<dyn std::error::Error>> {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        Ok(UserPlant {
            id: UserPlantId::from_uuid(Uuid::now_v7()),
            tenant_id: owner.tenant_id,
            owner: owner.user_id,
            catalog_plant_id: species.id,
            nickname: Nickname::parse(nickname)?,
            personality: PersonalityKey::parse("chill_friend")?,
            last_watered_at: None,
            next_reminder_at: None,
            is_active: true,
            created_at: now,
            updated_at: now,
        })
    }

    fn someone() -> Owner {
        Owner {
            tenant_id: TenantId::from_uuid(Uuid::now_v7()),
            user_id: UserId::from_uuid(Uuid::now_v7()),
        }
    }

    #[tokio::test]
    async fn another_owners_plant_is_not_found_nor_changed_nor_deleted() -> TestResult {
        let plants = InMemoryUserPlants::default();
        let species = species();
        plants.add_species(species.clone());
        let (mine, theirs) = (someone(), someone());
        let fern = plant(mine, &species, "Fern")?;
        plants.create(&fern).await?;
        let same_tenant = Owner {
            tenant_id: mine.tenant_id,
            user_id: theirs.user_id,
        };
        for other in [theirs, same_tenant] {
            assert_eq!(plants.find(other, fern.id).await?, None);
            assert!(
                plants
                    .list(other, PageRequest::default())
                    .await?
                    .items
                    .is_empty()
            );
            assert!(!plants.delete(other, fern.id).await?);
        }
        let stolen = UserPlant {
            owner: theirs.user_id,
            ..fern.clone()
        };
        assert!(!plants.update(&stolen, PlantColumns::default()).await?);
        assert_eq!(
            plants.find(mine, fern.id).await?.map(|owned| owned.plant),
            Some(fern)
        );
        Ok(())
    }

    #[tokio::test]
    async fn lists_page_in_id_order_and_an_unknown_species_is_refused() -> TestResult {
        let plants = InMemoryUserPlants::default();
        let species = species();
        let owner = someone();
        let orphan = plant(owner, &species, "Orphan")?;
        assert!(plants.create(&orphan).await.is_err());
        plants.add_species(species.clone());
        let mut ids = Vec::new();
        for name in ["A", "B", "C"] {
            let new = plant(owner, &species, name)?;
            ids.push(new.id);
            plants.create(&new).await?;
        }
        let first = plants
            .list(
                owner,
                PageRequest {
                    limit: 2,
                    after: None,
                },
            )
            .await?;
        let first_ids: Vec<_> = first.items.iter().map(|owned| owned.plant.id).collect();
        assert_eq!(first_ids, ids[..2]);
        let rest = plants
            .list(
                owner,
                PageRequest {
                    limit: 2,
                    after: first.next_after,
                },
            )
            .await?;
        assert_eq!(rest.items.len(), 1);
        assert_eq!(rest.next_after, None);
        Ok(())
    }

    #[tokio::test]
    async fn the_plant_last_talked_to_is_the_most_recent_and_deletion_takes_its_messages()
    -> TestResult {
        let plants = InMemoryUserPlants::default();
        let species = species();
        plants.add_species(species.clone());
        let owner = someone();
        let older = plant(owner, &species, "Older")?;
        let newer = plant(owner, &species, "Newer")?;
        plants.create(&older).await?;
        plants.create(&newer).await?;
        assert_eq!(
            plants.most_recent(owner).await?.map(|p| p.id),
            Some(newer.id)
        );
        let message = Message {
            id: MessageId::from_uuid(Uuid::now_v7()),
            plant_id: older.id,
            direction: Direction::Inbound,
            channel: Channel::Web,
            body: "hi".to_owned(),
            source: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        plants.messages().append(owner.tenant_id, &message).await?;
        assert_eq!(
            plants.most_recent(owner).await?.map(|p| p.id),
            Some(older.id)
        );
        assert!(plants.delete(owner, older.id).await?);
        assert!(plants.messages().stored().is_empty());
        Ok(())
    }
}
