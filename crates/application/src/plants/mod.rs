//! The caller's plants: add, list, read, rename, re-personalise, water and remove.

pub mod ports;
mod service;

pub use ports::{CatalogSummary, OwnedPlant, Owner};
pub use service::{
    CreatePlantError, NewPlant, PlantChanges, PlantError, PlantPorts, Plants, UpdatePlantError,
};
