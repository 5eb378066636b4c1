//! Bodies of the catalog routes.

use application::{
    catalog::{CatalogEntry, CatalogSearch, Companion},
    paging::PageRequest,
};
use domain::catalog::{CatalogPlant, Personality};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{errors::ApiError, fields::FieldErrors, paging::PageQuery};

/// `?q=&limit=&cursor=` of GET /api/v2/catalog.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// Search in common and scientific names (case-insensitive, at most 100 characters).
    pub q: Option<String>,
    /// Items per page, 1-100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl CatalogQuery {
    /// The search and the page, or every problem of the query at once.
    ///
    /// # Errors
    /// A 422 naming each bad parameter.
    pub fn parse(self) -> Result<(Option<CatalogSearch>, PageRequest), ApiError> {
        let mut errors = FieldErrors::default();
        let search = CatalogSearch::parse(self.q.as_deref().unwrap_or_default())
            .map_err(|error| errors.add("q", error))
            .ok();
        let page = PageQuery {
            limit: self.limit,
            cursor: self.cursor,
        }
        .parse(&mut errors);
        errors.finish(search.zip(page))
    }
}

/// A species of the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogPlantDocument {
    pub id: Uuid,
    /// English name.
    #[schema(example = "Tomato")]
    pub common_name: String,
    /// Botanical name.
    #[schema(example = "Solanum lycopersicum")]
    pub scientific_name: String,
    /// Days between waterings.
    #[schema(example = 2)]
    pub watering_interval_days: u32,
    /// `low`, `medium`, `bright_indirect` or `full_sun`.
    #[schema(example = "full_sun")]
    pub light: String,
    /// Key of the personality new plants of this species get.
    #[schema(example = "sunny_optimist")]
    pub default_personality: String,
    /// Whether planting it is restricted.
    pub restricted: bool,
    /// Why, when it is.
    pub restricted_reason: Option<String>,
}

impl From<&CatalogPlant> for CatalogPlantDocument {
    fn from(plant: &CatalogPlant) -> Self {
        Self {
            id: plant.id.as_uuid(),
            common_name: plant.common_name.clone(),
            scientific_name: plant.scientific_name.clone(),
            watering_interval_days: plant.watering_interval_days,
            light: plant.light.as_str().to_owned(),
            default_personality: plant.default_personality.as_str().to_owned(),
            restricted: plant.is_restricted(),
            restricted_reason: plant.restricted_reason.clone(),
        }
    }
}

/// A companion of a species.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompanionDocument {
    /// The other species.
    pub catalog_plant_id: Uuid,
    /// Its common name.
    #[schema(example = "Basil")]
    pub common_name: String,
    /// `beneficial` or `antagonistic`.
    #[schema(example = "beneficial")]
    pub kind: String,
    /// Why.
    pub reason: String,
}

impl From<&Companion> for CompanionDocument {
    fn from(companion: &Companion) -> Self {
        Self {
            catalog_plant_id: companion.catalog_plant_id.as_uuid(),
            common_name: companion.common_name.clone(),
            kind: companion.kind.as_str().to_owned(),
            reason: companion.reason.clone(),
        }
    }
}

/// A species with its companions.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogEntryDocument {
    /// The species.
    #[serde(flatten)]
    pub plant: CatalogPlantDocument,
    /// The plants it grows well or badly with.
    pub companions: Vec<CompanionDocument>,
}

impl From<&CatalogEntry> for CatalogEntryDocument {
    fn from(entry: &CatalogEntry) -> Self {
        Self {
            plant: CatalogPlantDocument::from(&entry.plant),
            companions: entry
                .companions
                .iter()
                .map(CompanionDocument::from)
                .collect(),
        }
    }
}

/// A personality plants can speak with.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalityDocument {
    /// Its key, used when adding or changing a plant.
    #[schema(example = "chill_friend")]
    pub key: String,
    /// Display name.
    #[schema(example = "Chill Friend")]
    pub name: String,
    /// One sentence about it.
    pub description: String,
}

impl From<&Personality> for PersonalityDocument {
    fn from(personality: &Personality) -> Self {
        Self {
            key: personality.key.as_str().to_owned(),
            name: personality.name.clone(),
            description: personality.description.clone(),
        }
    }
}
