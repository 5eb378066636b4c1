use super::{CompanionKind, Light, PersonalityKey};
use crate::ids::uuid_id;

uuid_id!(
    /// The id of a catalog plant.
    CatalogPlantId
);

/// A plant species of the global catalog, with its care needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CatalogPlant {
    pub id: CatalogPlantId,
    /// English name, unique in the catalog.
    pub common_name: String,
    /// Botanical name.
    pub scientific_name: String,
    /// Days between waterings in typical conditions (at least 1).
    pub watering_interval_days: u32,
    /// How much light it wants.
    pub light: Light,
    /// The personality a new plant of this species speaks with unless its owner picks another.
    pub default_personality: PersonalityKey,
    /// Why planting it is restricted, when it is (compliance).
    pub restricted_reason: Option<String>,
}

impl CatalogPlant {
    /// Whether planting it is restricted.
    #[must_use]
    pub const fn is_restricted(&self) -> bool {
        self.restricted_reason.is_some()
    }

    /// Whether `search` (already lower-cased) occurs in its common or scientific name, ignoring
    /// case.
    #[must_use]
    pub fn matches(&self, search: &str) -> bool {
        self.common_name.to_lowercase().contains(search)
            || self.scientific_name.to_lowercase().contains(search)
    }
}

/// A companion relationship between two catalog plants, stored once in one direction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CompanionLink {
    /// One plant.
    pub plant: CatalogPlantId,
    /// The other plant.
    pub companion: CatalogPlantId,
    /// Whether they help or hinder each other.
    pub kind: CompanionKind,
    /// Why, in one sentence.
    pub reason: String,
}

impl CompanionLink {
    /// The other side of the relationship when `id` is one of its sides.
    #[must_use]
    pub fn other_than(&self, id: CatalogPlantId) -> Option<CatalogPlantId> {
        if self.plant == id {
            Some(self.companion)
        } else if self.companion == id {
            Some(self.plant)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn basil() -> CatalogPlant {
        CatalogPlant {
            id: CatalogPlantId::from_uuid(Uuid::now_v7()),
            common_name: "Sweet Basil".to_owned(),
            scientific_name: "Ocimum basilicum".to_owned(),
            watering_interval_days: 2,
            light: Light::FullSun,
            default_personality: PersonalityKey::parse("sunny_optimist").unwrap(),
            restricted_reason: None,
        }
    }

    #[test]
    fn a_search_matches_either_name_ignoring_case() {
        let basil = basil();
        assert!(basil.matches("basil"));
        assert!(basil.matches("ocimum"));
        assert!(!basil.matches("tomato"));
        assert!(!basil.is_restricted());
    }

    #[test]
    fn a_link_names_the_other_side_from_either_end() {
        let (a, b, c) = (
            CatalogPlantId::from_uuid(Uuid::now_v7()),
            CatalogPlantId::from_uuid(Uuid::now_v7()),
            CatalogPlantId::from_uuid(Uuid::now_v7()),
        );
        let link = CompanionLink {
            plant: a,
            companion: b,
            kind: CompanionKind::Beneficial,
            reason: "r".to_owned(),
        };
        assert_eq!(link.other_than(a), Some(b));
        assert_eq!(link.other_than(b), Some(a));
        assert_eq!(link.other_than(c), None);
    }
}
