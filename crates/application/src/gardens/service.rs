use std::{sync::Arc, time::Instant};

use chrono::{DateTime, NaiveDate, Utc};
use domain::{
    catalog::CatalogPlantId,
    gardens::{
        Cell, EventKind, EventNotes, Garden, GardenId, GardenName, GridSide, Planting,
        PlantingEvent, PlantingEventId, PlantingId, PlantingStatus, RefusedStatusMove,
        rules::{GardenLayout, Rule, SpeciesBook},
    },
    identity::TenantId,
};

use super::{
    analysis::{GardenAnalysis, LayoutCell, LayoutView, RULE_ENGINE_OFF},
    ports::{
        ComplianceAudit, ComplianceDecision, ComplianceEntry, GardenColumns, GardenRepository,
        PlantingColumns, PlantingRepository,
    },
};
use crate::{
    catalog::Catalog,
    failure::{Failure, failed_from},
    flags::{FeatureFlags, Flag},
    metrics::{ComplianceAction, Metrics},
    paging::{Page, PageRequest},
    plants::Owner,
    store::StoreError,
    system::{Clock, IdGenerator},
};

/// Everything the garden use cases need, wired by the server.
#[derive(Clone)]
pub struct GardenPorts {
    pub gardens: Arc<dyn GardenRepository>,
    /// Plantings and their events.
    pub plantings: Arc<dyn PlantingRepository>,
    /// The compliance audit.
    pub compliance: Arc<dyn ComplianceAudit>,
    /// Species, restrictions and companions.
    pub catalog: Catalog,
    /// `rule_engine` and `compliance_enforcement`.
    pub flags: Arc<dyn FeatureFlags>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for GardenPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GardenPorts").finish_non_exhaustive()
    }
}

/// A garden to create, parsed.
#[derive(Debug, Clone)]
pub struct NewGarden {
    /// Its name.
    pub name: GardenName,
    /// Cells along x.
    pub width: GridSide,
    /// Cells along y.
    pub length: GridSide,
}

/// Changes to a garden, parsed; `None` leaves a field alone. A garden may shrink: plantings
/// left outside are reported `out_of_grid`.
#[derive(Debug, Clone, Default)]
pub struct GardenChanges {
    /// A new name.
    pub name: Option<GardenName>,
    /// A new width.
    pub width: Option<GridSide>,
    /// A new length.
    pub length: Option<GridSide>,
}

/// A planting to add, parsed.
#[derive(Debug, Clone)]
pub struct NewPlanting {
    /// The species.
    pub catalog_plant_id: CatalogPlantId,
    /// Where, checked against the grid by the use case.
    pub cell: Cell,
    /// Its status (`planned` unless given).
    pub status: PlantingStatus,
    /// The day it went into the ground.
    pub planted_on: Option<NaiveDate>,
}

/// Changes to a planting, parsed; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct PlantingChanges {
    /// A status to move to.
    pub status: Option<PlantingStatus>,
    /// A cell to move to, inside the grid.
    pub cell: Option<Cell>,
    /// The day it went into the ground.
    pub planted_on: Option<NaiveDate>,
}

/// An event to record, parsed.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// What happened.
    pub kind: EventKind,
    /// When; now unless given.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Free notes.
    pub notes: Option<EventNotes>,
}

/// Why a garden (or something read through it) cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum GardenError {
    /// The caller has no such garden.
    #[error("no such garden")]
    NotFound,
    /// A failure that is not the caller's.
    #[error(transparent)]
    Failed(#[from] Failure),
}

/// Why a planting cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum CreatePlantingError {
    /// The caller has no such garden.
    #[error("no such garden")]
    GardenNotFound,
    /// No species has this id.
    #[error("no catalog plant has this id")]
    UnknownCatalogPlant,
    /// The cell is not on the grid.
    #[error("the cell is outside the {width} × {length} grid")]
    OutsideGrid {
        /// The grid's width.
        width: u32,
        /// The grid's length.
        length: u32,
    },
    /// The garden holds [`MAX_PLANTINGS_PER_GARDEN`] planned and active plantings already.
    #[error("the garden holds {MAX_PLANTINGS_PER_GARDEN} planned and active plantings already")]
    GardenFull,
    /// The species is restricted and compliance enforcement is on; the attempt is audited and
    /// the user flagged.
    #[error("planting this species is restricted: {reason}")]
    Restricted {
        /// Why.
        reason: String,
    },
    /// A failure that is not the caller's.
    #[error(transparent)]
    Failed(#[from] Failure),
}

/// Why a planting cannot be changed.
#[derive(Debug, thiserror::Error)]
pub enum UpdatePlantingError {
    /// The caller has no such planting.
    #[error("no such planting")]
    NotFound,
    /// The status move is not one of a planting's life.
    #[error(transparent)]
    StatusMove(#[from] RefusedStatusMove),
    /// The cell is not on the grid.
    #[error("the cell is outside the {width} × {length} grid")]
    OutsideGrid {
        /// The grid's width.
        width: u32,
        /// The grid's length.
        length: u32,
    },
    /// A failure that is not the caller's.
    #[error(transparent)]
    Failed(#[from] Failure),
}

/// Why a planting cannot be removed or get an event.
#[derive(Debug, thiserror::Error)]
pub enum PlantingError {
    /// The caller has no such planting.
    #[error("no such planting")]
    NotFound,
    /// A failure that is not the caller's.
    #[error(transparent)]
    Failed(#[from] Failure),
}

/// How often a planting move is judged again when racing moves keep changing its status.
const MOVE_ATTEMPTS: usize = 3;

/// A planting whose status kept changing under a move (more than [`MOVE_ATTEMPTS`] racing
/// moves).
#[derive(Debug, thiserror::Error)]
#[error("the planting's status kept changing under the move")]
struct ContendedPlanting;

/// Most planned and active plantings one garden may hold: the size the rule engine is measured
/// at (docs/capacity-planning.md), so that an analysis stays within its budget.
pub const MAX_PLANTINGS_PER_GARDEN: u64 = 10_000;

failed_from!(
    GardenError,
    CreatePlantingError,
    UpdatePlantingError,
    PlantingError
);

/// The garden use cases, each scoped to the caller's own gardens.
#[derive(Clone)]
pub struct Gardens {
    ports: GardenPorts,
    metrics: Metrics,
}

impl std::fmt::Debug for Gardens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gardens").finish_non_exhaustive()
    }
}

impl Gardens {
    /// The use cases over `ports`.
    #[must_use]
    pub fn new(ports: GardenPorts) -> Self {
        Self {
            ports,
            metrics: Metrics::default(),
        }
    }

    /// The use cases, timing rules and counting compliance violations into `metrics`.
    #[must_use]
    pub fn recording_into(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    async fn owned_garden(&self, owner: Owner, id: GardenId) -> Result<Garden, GardenError> {
        self.ports
            .gardens
            .find(owner, id)
            .await?
            .ok_or(GardenError::NotFound)
    }

    /// Creates a garden.
    ///
    /// # Errors
    /// [`GardenError::Failed`] when the store fails.
    #[tracing::instrument(name = "gardens.create", skip_all, fields(user_id = %owner.user_id))]
    pub async fn create(&self, owner: Owner, new: NewGarden) -> Result<Garden, GardenError> {
        let now = self.ports.clock.now();
        let garden = Garden {
            id: GardenId::from_uuid(self.ports.ids.new_id()),
            tenant_id: owner.tenant_id,
            owner: owner.user_id,
            name: new.name,
            width: new.width,
            length: new.length,
            created_at: now,
            updated_at: now,
        };
        self.ports.gardens.create(&garden).await?;
        tracing::info!(garden_id = %garden.id, "garden created");
        Ok(garden)
    }

    /// The caller's gardens, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "gardens.list", skip_all, fields(user_id = %owner.user_id))]
    pub async fn list(&self, owner: Owner, page: PageRequest) -> Result<Page<Garden>, StoreError> {
        self.ports.gardens.list(owner, page).await
    }

    /// One of the caller's gardens.
    ///
    /// # Errors
    /// [`GardenError::NotFound`] when the caller has no such garden.
    #[tracing::instrument(name = "gardens.get", skip_all, fields(garden_id = %id))]
    pub async fn get(&self, owner: Owner, id: GardenId) -> Result<Garden, GardenError> {
        self.owned_garden(owner, id).await
    }

    /// Renames or resizes a garden; it may shrink below its plantings.
    ///
    /// # Errors
    /// [`GardenError::NotFound`] when the caller has no such garden.
    #[tracing::instrument(name = "gardens.update", skip_all, fields(garden_id = %id))]
    pub async fn update(
        &self,
        owner: Owner,
        id: GardenId,
        changes: GardenChanges,
    ) -> Result<Garden, GardenError> {
        let mut garden = self.owned_garden(owner, id).await?;
        let changed = GardenColumns {
            name: changes.name.is_some(),
            width: changes.width.is_some(),
            length: changes.length.is_some(),
        };
        if let Some(name) = changes.name {
            garden.name = name;
        }
        if let Some(width) = changes.width {
            garden.width = width;
        }
        if let Some(length) = changes.length {
            garden.length = length;
        }
        garden.updated_at = self.ports.clock.now();
        if !self.ports.gardens.update(&garden, changed).await? {
            return Err(GardenError::NotFound);
        }
        Ok(garden)
    }

    /// Deletes a garden with its plantings and their events.
    ///
    /// # Errors
    /// [`GardenError::NotFound`] when the caller has no such garden.
    #[tracing::instrument(name = "gardens.delete", skip_all, fields(garden_id = %id))]
    pub async fn delete(&self, owner: Owner, id: GardenId) -> Result<(), GardenError> {
        if self.ports.gardens.delete(owner, id).await? {
            tracing::info!("garden deleted");
            Ok(())
        } else {
            Err(GardenError::NotFound)
        }
    }

    /// Places a planting on a cell of the caller's garden. A restricted species is audited
    /// and flags the caller; it is refused while `compliance_enforcement` is on, planted
    /// (log-only) while it is off.
    ///
    /// # Errors
    /// [`CreatePlantingError`] for a missing garden, an unknown species, a cell off the grid or
    /// a refused restricted crop.
    #[tracing::instrument(name = "gardens.add_planting", skip_all, fields(garden_id = %garden_id, catalog_plant_id = %new.catalog_plant_id))]
    pub async fn add_planting(
        &self,
        owner: Owner,
        garden_id: GardenId,
        new: NewPlanting,
    ) -> Result<Planting, CreatePlantingError> {
        let garden = self
            .ports
            .gardens
            .find(owner, garden_id)
            .await?
            .ok_or(CreatePlantingError::GardenNotFound)?;
        if !garden.contains(new.cell) {
            return Err(CreatePlantingError::OutsideGrid {
                width: garden.width.get(),
                length: garden.length.get(),
            });
        }
        // Counted, not locked: racing creates may pass the cap by their number, which only
        // matters to someone flooding one garden.
        if self.ports.gardens.count_occupying(owner, garden_id).await? >= MAX_PLANTINGS_PER_GARDEN {
            return Err(CreatePlantingError::GardenFull);
        }
        let catalog = self.ports.catalog.snapshot().await?;
        let species = catalog
            .plant(new.catalog_plant_id)
            .ok_or(CreatePlantingError::UnknownCatalogPlant)?;
        let now = self.ports.clock.now();
        let planting = Planting {
            id: PlantingId::from_uuid(self.ports.ids.new_id()),
            tenant_id: owner.tenant_id,
            owner: owner.user_id,
            garden_id,
            catalog_plant_id: species.id,
            cell: new.cell,
            status: new.status,
            planted_on: new.planted_on,
            created_at: now,
            updated_at: now,
        };
        let Some(reason) = species.restricted_reason.clone() else {
            return if self.ports.plantings.create(&planting).await? {
                Ok(planting)
            } else {
                Err(CreatePlantingError::GardenNotFound)
            };
        };
        let enforced = self.ports.flags.is_enabled(Flag::ComplianceEnforcement);
        let entry = ComplianceEntry {
            id: self.ports.ids.new_id(),
            tenant_id: owner.tenant_id,
            user_id: owner.user_id,
            garden_id,
            catalog_plant_id: species.id,
            planting_id: (!enforced).then_some(planting.id),
            decision: if enforced {
                ComplianceDecision::Blocked
            } else {
                ComplianceDecision::Allowed
            },
            reason: reason.clone(),
            created_at: now,
        };
        let kept = (!enforced).then_some(&planting);
        if !self.ports.compliance.record(&entry, kept).await? {
            return Err(CreatePlantingError::GardenNotFound);
        }
        tracing::warn!(
            decision = entry.decision.as_str(),
            "restricted crop attempted; audited and user flagged"
        );
        self.metrics.record_compliance_violation(if enforced {
            ComplianceAction::Blocked
        } else {
            ComplianceAction::Logged
        });
        if enforced {
            Err(CreatePlantingError::Restricted { reason })
        } else {
            Ok(planting)
        }
    }

    /// The plantings of the caller's garden, oldest first, only those with `status` when
    /// given.
    ///
    /// # Errors
    /// [`GardenError::NotFound`] when the caller has no such garden.
    #[tracing::instrument(name = "gardens.list_plantings", skip_all, fields(garden_id = %garden_id))]
    pub async fn plantings(
        &self,
        owner: Owner,
        garden_id: GardenId,
        status: Option<PlantingStatus>,
        page: PageRequest,
    ) -> Result<Page<Planting>, GardenError> {
        self.owned_garden(owner, garden_id).await?;
        Ok(self
            .ports
            .plantings
            .list(owner, garden_id, status, page)
            .await?)
    }

    /// Moves a planting along its life, to another cell of its garden, or records the day it
    /// went into the ground.
    ///
    /// # Errors
    /// [`UpdatePlantingError`] for a missing planting, a forbidden move or a cell off the grid.
    #[tracing::instrument(name = "gardens.update_planting", skip_all, fields(planting_id = %id))]
    pub async fn update_planting(
        &self,
        owner: Owner,
        id: PlantingId,
        changes: PlantingChanges,
    ) -> Result<Planting, UpdatePlantingError> {
        let changed = PlantingColumns {
            status: changes.status.is_some(),
            cell: changes.cell.is_some(),
            planted_on: changes.planted_on.is_some(),
        };
        if let Some(cell) = changes.cell {
            let planting = self
                .ports
                .plantings
                .find(owner, id)
                .await?
                .ok_or(UpdatePlantingError::NotFound)?;
            let garden = self
                .ports
                .gardens
                .find(owner, planting.garden_id)
                .await?
                .ok_or(UpdatePlantingError::NotFound)?;
            if !garden.contains(cell) {
                return Err(UpdatePlantingError::OutsideGrid {
                    width: garden.width.get(),
                    length: garden.length.get(),
                });
            }
        }
        // A racing move may change the status between the read and the write: the move is
        // judged again against what is then stored, a few times at most.
        for _ in 0..MOVE_ATTEMPTS {
            let mut planting = self
                .ports
                .plantings
                .find(owner, id)
                .await?
                .ok_or(UpdatePlantingError::NotFound)?;
            let expected = planting.status;
            if let Some(status) = changes.status {
                planting.move_to(status)?;
            }
            if let Some(cell) = changes.cell {
                planting.cell = cell;
            }
            if let Some(planted_on) = changes.planted_on {
                planting.planted_on = Some(planted_on);
            }
            planting.updated_at = self.ports.clock.now();
            if self
                .ports
                .plantings
                .update(&planting, expected, changed)
                .await?
            {
                return Ok(planting);
            }
        }
        Err(UpdatePlantingError::Failed(Failure::unexpected(
            ContendedPlanting,
        )))
    }

    /// One of the caller's plantings.
    ///
    /// # Errors
    /// [`PlantingError::NotFound`] when the caller has no such planting.
    #[tracing::instrument(name = "gardens.get_planting", skip_all, fields(planting_id = %id))]
    pub async fn planting(&self, owner: Owner, id: PlantingId) -> Result<Planting, PlantingError> {
        self.ports
            .plantings
            .find(owner, id)
            .await?
            .ok_or(PlantingError::NotFound)
    }

    /// The events of one of the caller's plantings, in the order they were recorded.
    ///
    /// # Errors
    /// [`PlantingError::NotFound`] when the caller has no such planting.
    #[tracing::instrument(name = "gardens.events", skip_all, fields(planting_id = %id))]
    pub async fn events(
        &self,
        owner: Owner,
        id: PlantingId,
        page: PageRequest,
    ) -> Result<Page<PlantingEvent>, PlantingError> {
        self.planting(owner, id).await?;
        Ok(self.ports.plantings.events(owner, id, page).await?)
    }

    /// Deletes a planting and its events.
    ///
    /// # Errors
    /// [`PlantingError::NotFound`] when the caller has no such planting.
    #[tracing::instrument(name = "gardens.delete_planting", skip_all, fields(planting_id = %id))]
    pub async fn delete_planting(&self, owner: Owner, id: PlantingId) -> Result<(), PlantingError> {
        if self.ports.plantings.delete(owner, id).await? {
            Ok(())
        } else {
            Err(PlantingError::NotFound)
        }
    }

    /// Records something that happened to a planting (now, unless told when).
    ///
    /// # Errors
    /// [`PlantingError::NotFound`] when the caller has no such planting.
    #[tracing::instrument(name = "gardens.add_event", skip_all, fields(planting_id = %planting_id, kind = new.kind.as_str()))]
    pub async fn add_event(
        &self,
        owner: Owner,
        planting_id: PlantingId,
        new: NewEvent,
    ) -> Result<PlantingEvent, PlantingError> {
        self.ports
            .plantings
            .find(owner, planting_id)
            .await?
            .ok_or(PlantingError::NotFound)?;
        let now = self.ports.clock.now();
        let event = PlantingEvent {
            id: PlantingEventId::from_uuid(self.ports.ids.new_id()),
            tenant_id: owner.tenant_id,
            owner: owner.user_id,
            planting_id,
            kind: new.kind,
            occurred_at: new.occurred_at.unwrap_or(now),
            notes: new.notes,
            created_at: now,
        };
        if self.ports.plantings.add_event(&event).await? {
            Ok(event)
        } else {
            Err(PlantingError::NotFound)
        }
    }

    /// The rule engine's findings on the caller's garden; none, with a note, while the
    /// `rule_engine` flag is off.
    ///
    /// # Errors
    /// [`GardenError::NotFound`] when the caller has no such garden.
    #[tracing::instrument(name = "gardens.analyse", skip_all, fields(garden_id = %id, plantings, findings))]
    pub async fn analyse(&self, owner: Owner, id: GardenId) -> Result<GardenAnalysis, GardenError> {
        let garden = self.owned_garden(owner, id).await?;
        if !self.ports.flags.is_enabled(Flag::RuleEngine) {
            return Ok(GardenAnalysis {
                findings: Vec::new(),
                note: Some(RULE_ENGINE_OFF),
                rule_durations: Vec::new(),
            });
        }
        let plantings = self.ports.plantings.occupying(owner, id).await?;
        let catalog = self.ports.catalog.snapshot().await?;
        let book = SpeciesBook::new(&catalog.plants, &catalog.companions);
        let layout = GardenLayout::new(garden.width.get(), garden.length.get(), &plantings);
        let mut findings = Vec::new();
        let mut rule_durations = Vec::with_capacity(Rule::ALL.len());
        for rule in Rule::ALL {
            let _rule_span = tracing::info_span!("gardens.rule", rule = rule.as_str()).entered();
            let started = Instant::now();
            findings.extend(layout.findings(rule, &book));
            let elapsed = started.elapsed();
            self.metrics.record_rule(rule, elapsed);
            rule_durations.push((rule, elapsed));
        }
        let span = tracing::Span::current();
        span.record("plantings", plantings.len());
        span.record("findings", findings.len());
        Ok(GardenAnalysis {
            findings,
            note: None,
            rule_durations,
        })
    }

    /// The caller's garden as rows of cells, for drawing.
    ///
    /// # Errors
    /// [`GardenError::NotFound`] when the caller has no such garden.
    #[tracing::instrument(name = "gardens.layout", skip_all, fields(garden_id = %id))]
    pub async fn layout(&self, owner: Owner, id: GardenId) -> Result<LayoutView, GardenError> {
        let garden = self.owned_garden(owner, id).await?;
        let plantings = self.ports.plantings.occupying(owner, id).await?;
        let catalog = self.ports.catalog.snapshot().await?;
        let layout = GardenLayout::new(garden.width.get(), garden.length.get(), &plantings);
        let rows = layout
            .rows()
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|cell| {
                        cell.map(|planting| LayoutCell {
                            planting_id: planting.id,
                            catalog_plant_id: planting.catalog_plant_id,
                            common_name: catalog
                                .plant(planting.catalog_plant_id)
                                .map(|plant| plant.common_name.clone())
                                .unwrap_or_default(),
                            status: planting.status,
                        })
                    })
                    .collect()
            })
            .collect();
        Ok(LayoutView { garden, rows })
    }

    /// The compliance audit of a tenant, newest first (for its administrators).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "gardens.compliance_audit", skip_all, fields(tenant_id = %tenant))]
    pub async fn compliance_audit(
        &self,
        tenant: TenantId,
        page: PageRequest,
    ) -> Result<Page<ComplianceEntry>, StoreError> {
        self.ports.compliance.list(Some(tenant), page).await
    }
}
