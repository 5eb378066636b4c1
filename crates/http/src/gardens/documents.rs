//! Request and response bodies of the garden routes, and their parsing into commands.

use application::{
    gardens::{
        ComplianceEntry, GardenAnalysis, GardenChanges, LayoutCell, LayoutView, NewEvent,
        NewGarden, NewPlanting, PlantingChanges,
    },
    paging::PageRequest,
};
use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use domain::{
    catalog::CatalogPlantId,
    gardens::{
        Cell, EventKind, EventNotes, Garden, GardenName, GridSide, Planting, PlantingEvent,
        PlantingStatus, rules::Finding,
    },
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{errors::ApiError, fields::FieldErrors, paging::PageQuery};

/// POST /api/v2/gardens
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateGardenRequest {
    /// 1-100 characters after trimming.
    #[schema(example = "Back yard")]
    pub name: Option<String>,
    /// Cells along x, 1-200.
    #[schema(example = 10, minimum = 1, maximum = 200)]
    pub width: Option<i64>,
    /// Cells along y, 1-200.
    #[schema(example = 6, minimum = 1, maximum = 200)]
    pub length: Option<i64>,
}

fn grid_side(errors: &mut FieldErrors, field: &str, value: Option<i64>) -> Option<GridSide> {
    value.and_then(|cells| {
        GridSide::new(cells)
            .map_err(|error| errors.add(field, error))
            .ok()
    })
}

impl TryFrom<CreateGardenRequest> for NewGarden {
    type Error = ApiError;

    fn try_from(request: CreateGardenRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let name = errors.parse("name", request.name.as_deref(), GardenName::parse);
        for (field, value) in [("width", request.width), ("length", request.length)] {
            if value.is_none() {
                errors.add(field, "is required");
            }
        }
        let width = grid_side(&mut errors, "width", request.width);
        let length = grid_side(&mut errors, "length", request.length);
        let garden = (|| {
            Some(Self {
                name: name?,
                width: width?,
                length: length?,
            })
        })();
        errors.finish(garden)
    }
}

/// PATCH /api/v2/gardens/{id}: every field optional. A garden may shrink; plantings left
/// outside are reported `out_of_grid`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateGardenRequest {
    /// A new name.
    pub name: Option<String>,
    /// A new width, 1-200.
    pub width: Option<i64>,
    /// A new length, 1-200.
    pub length: Option<i64>,
}

impl TryFrom<UpdateGardenRequest> for GardenChanges {
    type Error = ApiError;

    fn try_from(request: UpdateGardenRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let name = request.name.as_deref().and_then(|text| {
            GardenName::parse(text)
                .map_err(|error| errors.add("name", error))
                .ok()
        });
        let width = grid_side(&mut errors, "width", request.width);
        let length = grid_side(&mut errors, "length", request.length);
        errors.finish(Some(Self {
            name,
            width,
            length,
        }))
    }
}

/// A garden.
#[derive(Debug, Serialize, ToSchema)]
pub struct GardenDocument {
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Cells along x (0 <= x < width).
    pub width: u32,
    /// Cells along y (0 <= y < length).
    pub length: u32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&Garden> for GardenDocument {
    fn from(garden: &Garden) -> Self {
        Self {
            id: garden.id.as_uuid(),
            name: garden.name.as_str().to_owned(),
            width: garden.width.get(),
            length: garden.length.get(),
            created_at: garden.created_at,
            updated_at: garden.updated_at,
        }
    }
}

fn coordinate(errors: &mut FieldErrors, field: &str, value: Option<i64>) -> Option<u32> {
    value.and_then(|value| {
        u32::try_from(value)
            .map_err(|_| errors.add(field, "must be a cell index, 0 or more"))
            .ok()
    })
}

/// Years a planting day or an event may fall in: wide for any garden, narrow enough for both
/// databases' date types (PostgreSQL stops at 4713 BC; chrono parses signed years).
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

fn planting_day(errors: &mut FieldErrors, value: Option<NaiveDate>) -> Option<NaiveDate> {
    value.filter(|day| {
        let plausible = YEARS.contains(&day.year());
        if !plausible {
            errors.add(
                "planted_on",
                "must be a day between the years 1900 and 2200",
            );
        }
        plausible
    })
}

fn status(errors: &mut FieldErrors, value: Option<&str>) -> Option<Option<PlantingStatus>> {
    match value {
        None => Some(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|error| errors.add("status", error))
            .ok(),
    }
}

/// POST /api/v2/gardens/{id}/plantings
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePlantingRequest {
    /// The species, from the catalog.
    pub catalog_plant_id: Option<Uuid>,
    /// Column, 0 <= x < the garden's width.
    #[schema(example = 2)]
    pub x: Option<i64>,
    /// Row, 0 <= y < the garden's length.
    #[schema(example = 3)]
    pub y: Option<i64>,
    /// `planned` (default) or `active`, `harvested`, `removed`.
    #[schema(example = "planned")]
    pub status: Option<String>,
    /// The day it went into the ground.
    pub planted_on: Option<NaiveDate>,
}

impl TryFrom<CreatePlantingRequest> for NewPlanting {
    type Error = ApiError;

    fn try_from(request: CreatePlantingRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        for (field, missing) in [
            ("catalog_plant_id", request.catalog_plant_id.is_none()),
            ("x", request.x.is_none()),
            ("y", request.y.is_none()),
        ] {
            if missing {
                errors.add(field, "is required");
            }
        }
        let x = coordinate(&mut errors, "x", request.x);
        let y = coordinate(&mut errors, "y", request.y);
        let status = status(&mut errors, request.status.as_deref()).and_then(|status| {
            let status = status.unwrap_or(PlantingStatus::Planned);
            // A planting starts its life; harvested and removed are where it ends.
            if status.occupies_cell() {
                Some(status)
            } else {
                errors.add("status", "a new planting is `planned` or `active`");
                None
            }
        });
        let planted_on = planting_day(&mut errors, request.planted_on);
        let planting = (|| {
            Some(Self {
                catalog_plant_id: CatalogPlantId::from_uuid(request.catalog_plant_id?),
                cell: Cell { x: x?, y: y? },
                status: status?,
                planted_on,
            })
        })();
        errors.finish(planting)
    }
}

/// PATCH /api/v2/plantings/{id}: every field optional; `x` and `y` move together.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdatePlantingRequest {
    /// The status to move to: planned -> active -> harvested | removed, planned -> removed.
    pub status: Option<String>,
    /// A new column (with `y`).
    pub x: Option<i64>,
    /// A new row (with `x`).
    pub y: Option<i64>,
    /// The day it went into the ground.
    pub planted_on: Option<NaiveDate>,
}

impl TryFrom<UpdatePlantingRequest> for PlantingChanges {
    type Error = ApiError;

    fn try_from(request: UpdatePlantingRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let status = status(&mut errors, request.status.as_deref());
        let x = coordinate(&mut errors, "x", request.x);
        let y = coordinate(&mut errors, "y", request.y);
        match (request.x, request.y) {
            (Some(_), None) => errors.add("y", "is required with x"),
            (None, Some(_)) => errors.add("x", "is required with y"),
            _ => {}
        }
        let cell = x.zip(y).map(|(x, y)| Cell { x, y });
        let planted_on = planting_day(&mut errors, request.planted_on);
        errors.finish(status.map(|status| Self {
            status,
            cell,
            planted_on,
        }))
    }
}

/// A planting.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlantingDocument {
    pub id: Uuid,
    /// Its garden.
    pub garden_id: Uuid,
    /// Its species.
    pub catalog_plant_id: Uuid,
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
    /// `planned`, `active`, `harvested` or `removed`.
    #[schema(example = "planned")]
    pub status: String,
    /// The day it went into the ground.
    pub planted_on: Option<NaiveDate>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&Planting> for PlantingDocument {
    fn from(planting: &Planting) -> Self {
        Self {
            id: planting.id.as_uuid(),
            garden_id: planting.garden_id.as_uuid(),
            catalog_plant_id: planting.catalog_plant_id.as_uuid(),
            x: planting.cell.x,
            y: planting.cell.y,
            status: planting.status.as_str().to_owned(),
            planted_on: planting.planted_on,
            created_at: planting.created_at,
            updated_at: planting.updated_at,
        }
    }
}

/// `?status=&limit=&cursor=` of the plantings list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlantingsQuery {
    /// Only plantings with this status (`planned`, `active`, `harvested`, `removed`).
    pub status: Option<String>,
    /// Items per page, 1-100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PlantingsQuery {
    /// The status filter and page asked for, every problem reported at once.
    pub(crate) fn parse(self) -> Result<(Option<PlantingStatus>, PageRequest), ApiError> {
        let mut errors = FieldErrors::default();
        let status = status(&mut errors, self.status.as_deref());
        let page = PageQuery {
            limit: self.limit,
            cursor: self.cursor,
        }
        .parse(&mut errors);
        errors.finish(status.zip(page))
    }
}

/// POST /api/v2/plantings/{id}/events
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateEventRequest {
    /// `sown`, `watered`, `fertilized`, `pruned`, `harvested` or `note`.
    #[schema(example = "watered")]
    pub kind: Option<String>,
    /// When it happened (RFC 3339); now when absent.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Up to 1,000 characters.
    pub notes: Option<String>,
}

impl TryFrom<CreateEventRequest> for NewEvent {
    type Error = ApiError;

    fn try_from(request: CreateEventRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let kind = errors.parse("kind", request.kind.as_deref(), str::parse::<EventKind>);
        let notes = match request.notes.as_deref() {
            None => Some(None),
            Some(text) => EventNotes::parse(text)
                .map(Some)
                .map_err(|error| errors.add("notes", error))
                .ok(),
        };
        let occurred_at = request.occurred_at.filter(|at| {
            let plausible = YEARS.contains(&at.year());
            if !plausible {
                errors.add("occurred_at", "must be between the years 1900 and 2200");
            }
            plausible
        });
        let event = (|| {
            Some(Self {
                kind: kind?,
                occurred_at,
                notes: notes?,
            })
        })();
        errors.finish(event)
    }
}

/// Something that happened to a planting.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDocument {
    pub id: Uuid,
    /// The planting.
    pub planting_id: Uuid,
    /// What happened.
    #[schema(example = "watered")]
    pub kind: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Free notes.
    pub notes: Option<String>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

impl From<&PlantingEvent> for EventDocument {
    fn from(event: &PlantingEvent) -> Self {
        Self {
            id: event.id.as_uuid(),
            planting_id: event.planting_id.as_uuid(),
            kind: event.kind.as_str().to_owned(),
            occurred_at: event.occurred_at,
            notes: event.notes.as_ref().map(|notes| notes.as_str().to_owned()),
            created_at: event.created_at,
        }
    }
}

/// One finding of the rule engine.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingDocument {
    /// `antagonistic_neighbours`, `beneficial_neighbours`, `shared_cell`, `out_of_grid` or
    /// `restricted_crop`.
    #[schema(example = "antagonistic_neighbours")]
    pub rule: String,
    /// `info`, `warning` or `error`.
    #[schema(example = "warning")]
    pub severity: String,
    /// What it says, for people.
    pub message: String,
    /// The plantings it is about.
    pub planting_ids: Vec<Uuid>,
}

impl From<&Finding> for FindingDocument {
    fn from(finding: &Finding) -> Self {
        Self {
            rule: finding.rule.as_str().to_owned(),
            severity: finding.severity.as_str().to_owned(),
            message: finding.message.clone(),
            planting_ids: finding.planting_ids.iter().map(|id| id.as_uuid()).collect(),
        }
    }
}

/// The rule engine's findings on a garden.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalysisDocument {
    /// Every finding, rule by rule.
    pub findings: Vec<FindingDocument>,
    /// Why `findings` is empty when the rule engine is switched off; `null` otherwise.
    pub note: Option<String>,
}

impl From<&GardenAnalysis> for AnalysisDocument {
    fn from(analysis: &GardenAnalysis) -> Self {
        Self {
            findings: analysis
                .findings
                .iter()
                .map(FindingDocument::from)
                .collect(),
            note: analysis.note.map(str::to_owned),
        }
    }
}

/// A cell of the layout: its first planned or active planting.
#[derive(Debug, Serialize, ToSchema)]
pub struct LayoutCellDocument {
    /// The planting.
    pub planting_id: Uuid,
    /// Its species.
    pub catalog_plant_id: Uuid,
    /// The species' common name.
    pub common_name: String,
    /// `planned` or `active`.
    pub status: String,
}

impl From<&LayoutCell> for LayoutCellDocument {
    fn from(cell: &LayoutCell) -> Self {
        Self {
            planting_id: cell.planting_id.as_uuid(),
            catalog_plant_id: cell.catalog_plant_id.as_uuid(),
            common_name: cell.common_name.clone(),
            status: cell.status.as_str().to_owned(),
        }
    }
}

/// A garden's grid for drawing.
#[derive(Debug, Serialize, ToSchema)]
pub struct LayoutDocument {
    /// Cells along x.
    pub width: u32,
    /// Cells along y.
    pub length: u32,
    /// `rows[y][x]`: `null`, or the first planned or active planting of cell (x, y).
    pub rows: Vec<Vec<Option<LayoutCellDocument>>>,
}

impl From<&LayoutView> for LayoutDocument {
    fn from(view: &LayoutView) -> Self {
        Self {
            width: view.garden.width.get(),
            length: view.garden.length.get(),
            rows: view
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|cell| cell.as_ref().map(LayoutCellDocument::from))
                        .collect()
                })
                .collect(),
        }
    }
}

/// One entry of the compliance audit.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceEntryDocument {
    pub id: Uuid,
    /// The planter's tenant.
    pub tenant_id: Uuid,
    /// The planter.
    pub user_id: Uuid,
    /// The garden.
    pub garden_id: Uuid,
    /// The restricted species.
    pub catalog_plant_id: Uuid,
    /// The planting, when it was allowed (log-only mode).
    pub planting_id: Option<Uuid>,
    /// `blocked` (enforcement on) or `allowed` (log-only).
    #[schema(example = "blocked")]
    pub decision: String,
    /// Why the species is restricted.
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

impl From<ComplianceEntry> for ComplianceEntryDocument {
    fn from(entry: ComplianceEntry) -> Self {
        Self {
            id: entry.id,
            tenant_id: entry.tenant_id.as_uuid(),
            user_id: entry.user_id.as_uuid(),
            garden_id: entry.garden_id.as_uuid(),
            catalog_plant_id: entry.catalog_plant_id.as_uuid(),
            planting_id: entry.planting_id.map(|id| id.as_uuid()),
            decision: entry.decision.as_str().to_owned(),
            reason: entry.reason,
            created_at: entry.created_at,
        }
    }
}
