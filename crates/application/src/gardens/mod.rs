//! The caller's gardens: plantings on a grid, their events, the rule engine's analysis, the
//! layout, and the compliance check on restricted crops.

mod analysis;
pub mod ports;
mod service;

pub use analysis::{GardenAnalysis, LayoutCell, LayoutView, RULE_ENGINE_OFF};
pub use ports::{ComplianceDecision, ComplianceEntry};
pub use service::{
    CreatePlantingError, GardenChanges, GardenError, GardenPorts, Gardens,
    MAX_PLANTINGS_PER_GARDEN, NewEvent, NewGarden, NewPlanting, PlantingChanges, PlantingError,
    UpdatePlantingError,
};
