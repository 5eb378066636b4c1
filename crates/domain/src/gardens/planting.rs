use chrono::{DateTime, NaiveDate, Utc};

use super::GardenId;
use crate::{
    catalog::CatalogPlantId,
    identity::{TenantId, UserId},
    ids::uuid_id,
    wire::wire_names,
};

uuid_id!(
    /// The id of a planting.
    PlantingId
);

/// A cell of a garden's grid, 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    /// Column, 0 <= x < width.
    pub x: u32,
    /// Row, 0 <= y < length.
    pub y: u32,
}

/// Where a planting is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlantingStatus {
    /// Drawn on the plan, not in the ground yet.
    Planned,
    /// Growing.
    Active,
    /// Harvested: history only.
    Harvested,
    /// Taken out: history only.
    Removed,
}

wire_names!(PlantingStatus {
    Planned => "planned",
    Active => "active",
    Harvested => "harvested",
    Removed => "removed",
});

/// A status move the life of a planting does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a planting cannot move from {} to {}", from.as_str(), to.as_str())]
pub struct RefusedStatusMove {
    /// The current status.
    pub from: PlantingStatus,
    /// The status asked for.
    pub to: PlantingStatus,
}

impl PlantingStatus {
    /// Whether a planting with this status takes up its cell: only planned and active plantings
    /// count in analysis and layout.
    #[must_use]
    pub const fn occupies_cell(self) -> bool {
        matches!(self, Self::Planned | Self::Active)
    }

    /// Whether a planting may move from `self` to `to`: planned -> active -> harvested or
    /// removed, and planned -> removed. Staying put is no move and always allowed.
    #[must_use]
    pub const fn can_move_to(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Planned, Self::Planned | Self::Active | Self::Removed)
                | (Self::Active, Self::Active | Self::Harvested | Self::Removed)
                | (Self::Harvested, Self::Harvested)
                | (Self::Removed, Self::Removed)
        )
    }
}

/// A catalog plant placed on a cell of a garden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planting {
    pub id: PlantingId,
    /// The owner's tenant.
    pub tenant_id: TenantId,
    /// The garden's owner.
    pub owner: UserId,
    /// The garden.
    pub garden_id: GardenId,
    /// The species.
    pub catalog_plant_id: CatalogPlantId,
    /// Where it is; inside the grid when placed, possibly outside after the garden shrank.
    pub cell: Cell,
    /// Where it is in its life.
    pub status: PlantingStatus,
    /// The day it went into the ground, when known.
    pub planted_on: Option<NaiveDate>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Planting {
    /// Moves the planting to `status`.
    ///
    /// # Errors
    /// [`RefusedStatusMove`] for a move its life does not allow; the planting is unchanged.
    pub const fn move_to(&mut self, status: PlantingStatus) -> Result<(), RefusedStatusMove> {
        if self.status.can_move_to(status) {
            self.status = status;
            Ok(())
        } else {
            Err(RefusedStatusMove {
                from: self.status,
                to: status,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PlantingStatus::{Active, Harvested, Planned, Removed};

    #[test]
    fn the_allowed_moves_are_exactly_those_of_a_plantings_life() {
        let allowed = [
            (Planned, Active),
            (Planned, Removed),
            (Active, Harvested),
            (Active, Removed),
        ];
        for from in PlantingStatus::ALL {
            for to in PlantingStatus::ALL {
                let expected = from == to || allowed.contains(&(from, to));
                assert_eq!(from.can_move_to(to), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn only_planned_and_active_plantings_occupy_their_cell() {
        assert!(Planned.occupies_cell());
        assert!(Active.occupies_cell());
        assert!(!Harvested.occupies_cell());
        assert!(!Removed.occupies_cell());
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in PlantingStatus::ALL {
            assert_eq!(status.as_str().parse::<PlantingStatus>(), Ok(status));
        }
        assert!("growing".parse::<PlantingStatus>().is_err());
    }
}
