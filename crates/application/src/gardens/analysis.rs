//! What the analysis and layout of a garden answer.

use std::time::Duration;

use domain::{
    catalog::CatalogPlantId,
    gardens::{
        Garden, PlantingId, PlantingStatus,
        rules::{Finding, Rule},
    },
};

/// The note of an analysis while the `rule_engine` flag is off.
pub const RULE_ENGINE_OFF: &str =
    "The rule engine is switched off (feature flag rule_engine): no findings were computed.";

/// The rule engine's findings on a garden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GardenAnalysis {
    /// Every finding, rule by rule.
    pub findings: Vec<Finding>,
    /// Why there are no findings, when the engine did not run.
    pub note: Option<&'static str>,
    /// How long each rule took: for metrics.
    pub rule_durations: Vec<(Rule, Duration)>,
}

/// A cell of the layout: the first planting in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutCell {
    /// The planting.
    pub planting_id: PlantingId,
    /// Its species.
    pub catalog_plant_id: CatalogPlantId,
    /// The species' common name.
    pub common_name: String,
    /// Its status (planned or active).
    pub status: PlantingStatus,
}

/// A garden's grid for drawing: `rows[y][x]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutView {
    /// The garden.
    pub garden: Garden,
    /// `rows[y][x]`: the first planned or active planting of cell (x, y), if any.
    pub rows: Vec<Vec<Option<LayoutCell>>>,
}
