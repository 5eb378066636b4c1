//! The global plant catalog: species and their care needs, which plants grow well together, and
//! the personalities plants speak with.

mod companion;
mod light;
mod personality;
mod plant;

pub use companion::CompanionKind;
pub use light::Light;
pub use personality::{InvalidPersonalityKey, Personality, PersonalityId, PersonalityKey};
pub use plant::{CatalogPlant, CatalogPlantId, CompanionLink};

/// A wire name that is not one of a closed set of values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not one of: {expected}")]
pub struct UnknownVariant {
    /// What was given.
    pub value: String,
    /// The accepted names, comma-separated.
    pub expected: &'static str,
}
