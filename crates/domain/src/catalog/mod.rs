//! The global plant catalog: how much light a plant wants and which plants grow well together.

mod companion;
mod light;

pub use companion::CompanionKind;
pub use light::Light;

/// A wire name that is not one of a closed set of values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not one of: {expected}")]
pub struct UnknownVariant {
    /// What was given.
    pub value: String,
    /// The accepted names, comma-separated.
    pub expected: &'static str,
}
