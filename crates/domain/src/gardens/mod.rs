//! Gardens: a grid of cells, the plantings placed on it, what happens to them, and the rule
//! engine that reads a garden's layout for companion-planting and compliance findings.

mod event;
mod garden;
mod planting;
pub mod rules;

pub use event::{EventKind, EventNotes, InvalidEventNotes, PlantingEvent, PlantingEventId};
pub use garden::{Garden, GardenId, GardenName, GridSide, InvalidGardenName, InvalidGridSide};
pub use planting::{Cell, Planting, PlantingId, PlantingStatus, RefusedStatusMove};
