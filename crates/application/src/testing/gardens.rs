//! Fakes of the gardens' ports: gardens, plantings with their events, and the compliance audit,
//! over one set of in-memory tables so that the foreign keys and cascades of the database hold.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use domain::{
    gardens::{Garden, GardenId, Planting, PlantingEvent, PlantingId, PlantingStatus},
    identity::TenantId,
};

use super::{
    Outage, lock,
    plants::{Races, keyset_page, refused},
};
use crate::{
    gardens::{
        ComplianceEntry,
        ports::{
            ComplianceAudit, GardenColumns, GardenRepository, PlantingColumns, PlantingRepository,
        },
    },
    paging::{Page, PageRequest},
    plants::Owner,
    store::StoreError,
};

/// The tables the three fakes share.
#[derive(Debug, Default)]
struct GardenTables {
    gardens: Vec<Garden>,
    plantings: Vec<Planting>,
    events: Vec<PlantingEvent>,
    audit: Vec<ComplianceEntry>,
    flagged: Vec<Owner>,
}

impl GardenTables {
    /// Inserts a planting as the database does: `false` when its garden is gone (the foreign key
    /// is on the garden id alone), an error for a taken id.
    fn insert_planting(&mut self, planting: &Planting) -> Result<bool, StoreError> {
        if self.plantings.iter().any(|stored| stored.id == planting.id) {
            return Err(refused(format!("duplicate planting id {}", planting.id)));
        }
        if !self
            .gardens
            .iter()
            .any(|garden| garden.id == planting.garden_id)
        {
            return Ok(false);
        }
        self.plantings.push(planting.clone());
        Ok(true)
    }

    /// Deletes the plantings `doomed` picks, and their events (ON DELETE CASCADE).
    fn delete_plantings(&mut self, doomed: impl Fn(&Planting) -> bool) -> usize {
        let gone: Vec<PlantingId> = self
            .plantings
            .iter()
            .filter(|planting| doomed(planting))
            .map(|planting| planting.id)
            .collect();
        self.plantings
            .retain(|planting| !gone.contains(&planting.id));
        self.events
            .retain(|event| !gone.contains(&event.planting_id));
        gone.len()
    }
}

fn garden_owned_by(garden: &Garden, owner: Owner) -> bool {
    garden.tenant_id == owner.tenant_id && garden.owner == owner.user_id
}

fn planting_owned_by(planting: &Planting, owner: Owner) -> bool {
    planting.tenant_id == owner.tenant_id && planting.owner == owner.user_id
}

/// The shared handle every garden fake holds.
#[derive(Debug, Clone, Default)]
struct Shared {
    outage: Outage,
    tables: Arc<Mutex<GardenTables>>,
    races: Races,
}

impl Shared {
    fn new(outage: Outage) -> Self {
        Self {
            outage,
            tables: Arc::default(),
            races: Races::default(),
        }
    }

    /// The tables for a write, once the race queued for it ran and the outage check passed.
    fn up_for_write(&self) -> Result<std::sync::MutexGuard<'_, GardenTables>, StoreError> {
        self.races.run_next();
        self.up()
    }

    /// The tables, once the outage check passed.
    fn up(&self) -> Result<std::sync::MutexGuard<'_, GardenTables>, StoreError> {
        self.outage.check()?;
        Ok(lock(&self.tables))
    }
}

/// In-memory [`GardenRepository`]: another tenant's or user's garden is not found, lists are in
/// id order with keyset paging, an update writes only the columns it names, and deleting a
/// garden deletes its plantings and their events.
///
/// Its siblings [`InMemoryGardens::plantings`] and [`InMemoryGardens::compliance_audit`] share
/// its tables. Clones share the data.
#[derive(Debug, Clone, Default)]
pub struct InMemoryGardens {
    shared: Shared,
}

impl InMemoryGardens {
    /// Empty tables, down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            shared: Shared::new(outage),
        }
    }

    /// The plantings store over the same tables.
    #[must_use]
    pub fn plantings(&self) -> InMemoryPlantings {
        InMemoryPlantings {
            shared: self.shared.clone(),
        }
    }

    /// The compliance audit over the same tables.
    #[must_use]
    pub fn compliance_audit(&self) -> InMemoryComplianceAudit {
        InMemoryComplianceAudit {
            shared: self.shared.clone(),
        }
    }

    /// Seeds a garden, bypassing the port (replacing one with the same id).
    pub fn insert(&self, garden: Garden) {
        let mut tables = lock(&self.shared.tables);
        tables.gardens.retain(|stored| stored.id != garden.id);
        tables.gardens.push(garden);
    }

    /// Deletes the garden with this id, whoever owns it, with its plantings and their events,
    /// bypassing the port. `false` when there was none.
    pub fn remove(&self, id: GardenId) -> bool {
        let mut tables = lock(&self.shared.tables);
        let before = tables.gardens.len();
        tables.gardens.retain(|garden| garden.id != id);
        let removed = tables.gardens.len() < before;
        if removed {
            tables.delete_plantings(|planting| planting.garden_id == id);
        }
        removed
    }

    /// Runs `race` just before the next write (create, update, delete, an event, an audit
    /// entry) of this fake or its siblings starts: another request committing between a use
    /// case's read and its write, such as a deletion ([`InMemoryGardens::remove`]) racing a
    /// change. Races queue up, one per write.
    pub fn before_next_write(&self, race: impl FnOnce() + Send + 'static) {
        self.shared.races.push(race);
    }

    /// Every stored garden, whoever owns it, in id order.
    #[must_use]
    pub fn gardens(&self) -> Vec<Garden> {
        let mut gardens = lock(&self.shared.tables).gardens.clone();
        gardens.sort_by_key(|garden| garden.id);
        gardens
    }

    /// The stored garden with this id, whoever owns it.
    #[must_use]
    pub fn get(&self, id: GardenId) -> Option<Garden> {
        lock(&self.shared.tables)
            .gardens
            .iter()
            .find(|garden| garden.id == id)
            .cloned()
    }
}

#[async_trait]
impl GardenRepository for InMemoryGardens {
    async fn create(&self, garden: &Garden) -> Result<(), StoreError> {
        let mut tables = self.shared.up_for_write()?;
        if tables.gardens.iter().any(|stored| stored.id == garden.id) {
            return Err(refused(format!("duplicate garden id {}", garden.id)));
        }
        tables.gardens.push(garden.clone());
        Ok(())
    }

    async fn find(&self, owner: Owner, id: GardenId) -> Result<Option<Garden>, StoreError> {
        let tables = self.shared.up()?;
        Ok(tables
            .gardens
            .iter()
            .find(|garden| garden.id == id && garden_owned_by(garden, owner))
            .cloned())
    }

    async fn list(&self, owner: Owner, page: PageRequest) -> Result<Page<Garden>, StoreError> {
        let tables = self.shared.up()?;
        let gardens = tables
            .gardens
            .iter()
            .filter(|garden| garden_owned_by(garden, owner))
            .cloned()
            .collect();
        Ok(keyset_page(gardens, page, true, |garden| {
            garden.id.as_uuid()
        }))
    }

    async fn update(&self, garden: &Garden, changed: GardenColumns) -> Result<bool, StoreError> {
        let mut tables = self.shared.up_for_write()?;
        let owner = Owner {
            tenant_id: garden.tenant_id,
            user_id: garden.owner,
        };
        let Some(stored) = tables
            .gardens
            .iter_mut()
            .find(|stored| stored.id == garden.id && garden_owned_by(stored, owner))
        else {
            return Ok(false);
        };
        if changed.name {
            stored.name = garden.name.clone();
        }
        if changed.width {
            stored.width = garden.width;
        }
        if changed.length {
            stored.length = garden.length;
        }
        stored.updated_at = garden.updated_at;
        Ok(true)
    }

    async fn count_occupying(&self, owner: Owner, id: GardenId) -> Result<u64, StoreError> {
        let tables = self.shared.up()?;
        let count = tables
            .plantings
            .iter()
            .filter(|planting| planting.garden_id == id && planting_owned_by(planting, owner))
            .filter(|planting| planting.status.occupies_cell())
            .count();
        Ok(u64::try_from(count).unwrap_or(u64::MAX))
    }

    async fn delete(&self, owner: Owner, id: GardenId) -> Result<bool, StoreError> {
        let mut tables = self.shared.up_for_write()?;
        let before = tables.gardens.len();
        tables
            .gardens
            .retain(|garden| !(garden.id == id && garden_owned_by(garden, owner)));
        let deleted = tables.gardens.len() < before;
        if deleted {
            tables.delete_plantings(|planting| planting.garden_id == id);
        }
        Ok(deleted)
    }
}

/// In-memory [`PlantingRepository`]: another tenant's or user's planting (and its events) is not
/// found, lists are in id order with keyset paging, a planting or event whose parent is gone is
/// refused with `false`, and an update is a compare-and-set on the stored status.
///
/// Shares its tables with [`InMemoryGardens`] (see [`InMemoryPlantings::gardens`]). Clones share
/// the data.
#[derive(Debug, Clone, Default)]
pub struct InMemoryPlantings {
    shared: Shared,
}

impl InMemoryPlantings {
    /// Empty tables, down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            shared: Shared::new(outage),
        }
    }

    /// The gardens store over the same tables: a planting needs its garden there.
    #[must_use]
    pub fn gardens(&self) -> InMemoryGardens {
        InMemoryGardens {
            shared: self.shared.clone(),
        }
    }

    /// Seeds a planting, bypassing the port and the garden check (replacing one with the same
    /// id).
    pub fn insert(&self, planting: Planting) {
        let mut tables = lock(&self.shared.tables);
        tables.plantings.retain(|stored| stored.id != planting.id);
        tables.plantings.push(planting);
    }

    /// Seeds an event, bypassing the port and the planting check.
    pub fn insert_event(&self, event: PlantingEvent) {
        let mut tables = lock(&self.shared.tables);
        tables.events.retain(|stored| stored.id != event.id);
        tables.events.push(event);
    }

    /// Deletes the planting with this id, whoever owns it, and its events, bypassing the port.
    /// `false` when there was none.
    pub fn remove(&self, id: PlantingId) -> bool {
        lock(&self.shared.tables).delete_plantings(|planting| planting.id == id) > 0
    }

    /// Runs `race` just before the next write of this fake or its siblings starts (see
    /// [`InMemoryGardens::before_next_write`]), such as another request moving the planting's
    /// status ([`InMemoryPlantings::insert`]) between a move's read and its write.
    pub fn before_next_write(&self, race: impl FnOnce() + Send + 'static) {
        self.shared.races.push(race);
    }

    /// Every stored planting, whoever owns it, in id order.
    #[must_use]
    pub fn plantings(&self) -> Vec<Planting> {
        let mut plantings = lock(&self.shared.tables).plantings.clone();
        plantings.sort_by_key(|planting| planting.id);
        plantings
    }

    /// The stored planting with this id, whoever owns it.
    #[must_use]
    pub fn get(&self, id: PlantingId) -> Option<Planting> {
        lock(&self.shared.tables)
            .plantings
            .iter()
            .find(|planting| planting.id == id)
            .cloned()
    }

    /// Every stored event, whoever owns it, in id order.
    #[must_use]
    pub fn events(&self) -> Vec<PlantingEvent> {
        let mut events = lock(&self.shared.tables).events.clone();
        events.sort_by_key(|event| event.id);
        events
    }
}

#[async_trait]
impl PlantingRepository for InMemoryPlantings {
    async fn create(&self, planting: &Planting) -> Result<bool, StoreError> {
        self.shared.up_for_write()?.insert_planting(planting)
    }

    async fn find(&self, owner: Owner, id: PlantingId) -> Result<Option<Planting>, StoreError> {
        let tables = self.shared.up()?;
        Ok(tables
            .plantings
            .iter()
            .find(|planting| planting.id == id && planting_owned_by(planting, owner))
            .cloned())
    }

    async fn list(
        &self,
        owner: Owner,
        garden: GardenId,
        status: Option<PlantingStatus>,
        page: PageRequest,
    ) -> Result<Page<Planting>, StoreError> {
        let tables = self.shared.up()?;
        let plantings = tables
            .plantings
            .iter()
            .filter(|planting| planting.garden_id == garden && planting_owned_by(planting, owner))
            .filter(|planting| status.is_none_or(|status| planting.status == status))
            .cloned()
            .collect();
        Ok(keyset_page(plantings, page, true, |planting| {
            planting.id.as_uuid()
        }))
    }

    async fn occupying(&self, owner: Owner, garden: GardenId) -> Result<Vec<Planting>, StoreError> {
        let tables = self.shared.up()?;
        let mut plantings: Vec<Planting> = tables
            .plantings
            .iter()
            .filter(|planting| planting.garden_id == garden && planting_owned_by(planting, owner))
            .filter(|planting| planting.status.occupies_cell())
            .cloned()
            .collect();
        plantings.sort_by_key(|planting| planting.id);
        Ok(plantings)
    }

    async fn update(
        &self,
        planting: &Planting,
        expected: PlantingStatus,
        changed: PlantingColumns,
    ) -> Result<bool, StoreError> {
        let mut tables = self.shared.up_for_write()?;
        let owner = Owner {
            tenant_id: planting.tenant_id,
            user_id: planting.owner,
        };
        let Some(stored) = tables.plantings.iter_mut().find(|stored| {
            stored.id == planting.id
                && planting_owned_by(stored, owner)
                && stored.status == expected
        }) else {
            return Ok(false);
        };
        if changed.status {
            stored.status = planting.status;
        }
        if changed.cell {
            stored.cell = planting.cell;
        }
        if changed.planted_on {
            stored.planted_on = planting.planted_on;
        }
        stored.updated_at = planting.updated_at;
        Ok(true)
    }

    async fn delete(&self, owner: Owner, id: PlantingId) -> Result<bool, StoreError> {
        let mut tables = self.shared.up_for_write()?;
        let deleted = tables
            .delete_plantings(|planting| planting.id == id && planting_owned_by(planting, owner));
        Ok(deleted > 0)
    }

    async fn events(
        &self,
        owner: Owner,
        planting: PlantingId,
        page: PageRequest,
    ) -> Result<Page<PlantingEvent>, StoreError> {
        let tables = self.shared.up()?;
        let events = tables
            .events
            .iter()
            .filter(|event| event.planting_id == planting)
            .filter(|event| event.tenant_id == owner.tenant_id && event.owner == owner.user_id)
            .cloned()
            .collect();
        Ok(keyset_page(events, page, true, |event| event.id.as_uuid()))
    }

    async fn add_event(&self, event: &PlantingEvent) -> Result<bool, StoreError> {
        let mut tables = self.shared.up_for_write()?;
        if tables.events.iter().any(|stored| stored.id == event.id) {
            return Err(refused(format!("duplicate planting event id {}", event.id)));
        }
        if !tables
            .plantings
            .iter()
            .any(|planting| planting.id == event.planting_id)
        {
            return Ok(false);
        }
        tables.events.push(event.clone());
        Ok(true)
    }
}

/// In-memory [`ComplianceAudit`]: recording appends the entry, flags its user and stores the
/// allowed planting all at once (nothing when the garden is gone or the entry id is taken);
/// entries are never changed, and list newest first (by id) with keyset paging.
///
/// There is no users table here: the flag is kept in [`InMemoryComplianceAudit::flagged`].
/// Shares its tables with [`InMemoryGardens`] (see [`InMemoryGardens::compliance_audit`]).
/// Clones share the data.
#[derive(Debug, Clone, Default)]
pub struct InMemoryComplianceAudit {
    shared: Shared,
}

impl InMemoryComplianceAudit {
    /// An empty audit with empty garden tables, down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            shared: Shared::new(outage),
        }
    }

    /// The gardens store over the same tables.
    #[must_use]
    pub fn gardens(&self) -> InMemoryGardens {
        InMemoryGardens {
            shared: self.shared.clone(),
        }
    }

    /// Every entry, in the order recorded.
    #[must_use]
    pub fn entries(&self) -> Vec<ComplianceEntry> {
        lock(&self.shared.tables).audit.clone()
    }

    /// The users flagged by an entry, in the order first flagged.
    #[must_use]
    pub fn flagged(&self) -> Vec<Owner> {
        lock(&self.shared.tables).flagged.clone()
    }

    /// Whether an entry flagged `owner`.
    #[must_use]
    pub fn is_flagged(&self, owner: Owner) -> bool {
        lock(&self.shared.tables).flagged.contains(&owner)
    }
}

#[async_trait]
impl ComplianceAudit for InMemoryComplianceAudit {
    async fn record(
        &self,
        entry: &ComplianceEntry,
        planting: Option<&Planting>,
    ) -> Result<bool, StoreError> {
        let mut tables = self.shared.up_for_write()?;
        if tables.audit.iter().any(|stored| stored.id == entry.id) {
            return Err(refused(format!(
                "duplicate compliance entry id {}",
                entry.id
            )));
        }
        if let Some(planting) = planting
            && !tables.insert_planting(planting)?
        {
            return Ok(false);
        }
        tables.audit.push(entry.clone());
        let owner = Owner {
            tenant_id: entry.tenant_id,
            user_id: entry.user_id,
        };
        if !tables.flagged.contains(&owner) {
            tables.flagged.push(owner);
        }
        Ok(true)
    }

    async fn list(
        &self,
        tenant: Option<TenantId>,
        page: PageRequest,
    ) -> Result<Page<ComplianceEntry>, StoreError> {
        let tables = self.shared.up()?;
        let entries = tables
            .audit
            .iter()
            .filter(|entry| tenant.is_none_or(|tenant| entry.tenant_id == tenant))
            .cloned()
            .collect();
        Ok(keyset_page(entries, page, false, |entry| entry.id))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use domain::{
        catalog::CatalogPlantId,
        gardens::{Cell, GardenName, GridSide},
        identity::UserId,
    };
    use uuid::Uuid;

    use super::*;
    use crate::gardens::ComplianceDecision;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn someone() -> Owner {
        Owner {
            tenant_id: TenantId::from_uuid(Uuid::now_v7()),
            user_id: UserId::from_uuid(Uuid::now_v7()),
        }
    }

    fn garden(owner: Owner) -> Result<Garden, Box<dyn std::error::Error>> {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        Ok(Garden {
            id: GardenId::from_uuid(Uuid::now_v7()),
            tenant_id: owner.tenant_id,
            owner: owner.user_id,
            name: GardenName::parse("Plot")?,
            width: GridSide::new(4)?,
            length: GridSide::new(4)?,
            created_at: now,
            updated_at: now,
        })
    }

    fn planting(garden: &Garden, status: PlantingStatus) -> Planting {
        Planting {
            id: PlantingId::from_uuid(Uuid::now_v7()),
            tenant_id: garden.tenant_id,
            owner: garden.owner,
            garden_id: garden.id,
            catalog_plant_id: CatalogPlantId::from_uuid(Uuid::now_v7()),
            cell: Cell { x: 0, y: 0 },
            status,
            planted_on: None,
            created_at: garden.created_at,
            updated_at: garden.updated_at,
        }
    }

    #[tokio::test]
    async fn another_owners_garden_is_invisible_and_a_move_is_a_compare_and_set() -> TestResult {
        let gardens = InMemoryGardens::default();
        let plantings = gardens.plantings();
        let owner = someone();
        let plot = garden(owner)?;
        gardens.create(&plot).await?;
        assert_eq!(gardens.find(someone(), plot.id).await?, None);
        let mut tomato = planting(&plot, PlantingStatus::Planned);
        assert!(plantings.create(&tomato).await?);
        tomato.status = PlantingStatus::Active;
        let status_only = PlantingColumns {
            status: true,
            ..PlantingColumns::default()
        };
        assert!(
            plantings
                .update(&tomato, PlantingStatus::Planned, status_only)
                .await?
        );
        // A racing move that read `planned` finds the status moved.
        assert!(
            !plantings
                .update(&tomato, PlantingStatus::Planned, status_only)
                .await?
        );
        assert_eq!(gardens.count_occupying(owner, plot.id).await?, 1);
        assert_eq!(plantings.find(someone(), tomato.id).await?, None);
        Ok(())
    }

    #[tokio::test]
    async fn a_deleted_garden_takes_its_plantings_and_refuses_new_ones() -> TestResult {
        let gardens = InMemoryGardens::default();
        let plantings = gardens.plantings();
        let owner = someone();
        let plot = garden(owner)?;
        gardens.create(&plot).await?;
        plantings.insert(planting(&plot, PlantingStatus::Active));
        assert!(gardens.delete(owner, plot.id).await?);
        assert!(plantings.plantings().is_empty());
        assert!(
            !plantings
                .create(&planting(&plot, PlantingStatus::Planned))
                .await?
        );
        Ok(())
    }

    #[tokio::test]
    async fn an_audit_entry_flags_its_user_and_lists_newest_first() -> TestResult {
        let gardens = InMemoryGardens::default();
        let audit = gardens.compliance_audit();
        let owner = someone();
        let plot = garden(owner)?;
        gardens.insert(plot.clone());
        let entry = |planting_id| ComplianceEntry {
            id: Uuid::now_v7(),
            tenant_id: owner.tenant_id,
            user_id: owner.user_id,
            garden_id: plot.id,
            catalog_plant_id: CatalogPlantId::from_uuid(Uuid::now_v7()),
            planting_id,
            decision: ComplianceDecision::Blocked,
            reason: "restricted".to_owned(),
            created_at: plot.created_at,
        };
        let (older, newer) = (entry(None), entry(None));
        assert!(audit.record(&older, None).await?);
        let allowed = planting(&plot, PlantingStatus::Planned);
        assert!(audit.record(&newer, Some(&allowed)).await?);
        assert!(audit.is_flagged(owner));
        assert_eq!(gardens.plantings().get(allowed.id), Some(allowed));
        let listed = audit
            .list(Some(owner.tenant_id), PageRequest::default())
            .await?;
        assert_eq!(listed.items, [newer, older]);
        assert!(
            audit
                .list(Some(someone().tenant_id), PageRequest::default())
                .await?
                .items
                .is_empty()
        );
        Ok(())
    }
}
