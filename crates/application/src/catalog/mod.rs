//! The public catalog: plant species, their companions and the personalities plants speak with,
//! read through a cache.

pub mod ports;
mod search;
mod service;

pub use search::{CatalogSearch, InvalidCatalogSearch};
pub use service::{Catalog, CatalogEntry, CatalogEntryError, Companion};
