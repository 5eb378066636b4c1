use chrono::{DateTime, Utc};

use super::Cell;
use crate::{
    identity::{TenantId, UserId},
    ids::uuid_id,
    text::trimmed_printable,
};

uuid_id!(
    /// The id of a garden.
    GardenId
);

/// What an owner calls a garden: printable text of 1-100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GardenName(String);

/// Why a text is not a garden name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 100 characters without control characters")]
pub struct InvalidGardenName;

impl GardenName {
    /// Longest name, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Trims `text` and checks its length and characters.
    ///
    /// # Errors
    /// [`InvalidGardenName`] when it is blank, too long or holds control characters.
    pub fn parse(text: &str) -> Result<Self, InvalidGardenName> {
        trimmed_printable(text, Self::MAX_CHARS)
            .map(|name| Self(name.to_owned()))
            .ok_or(InvalidGardenName)
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One side of a garden's grid, in cells: 1 to 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GridSide(u32);

/// Why a number is not a grid side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be between 1 and 200")]
pub struct InvalidGridSide;

impl GridSide {
    /// The longest side.
    pub const MAX: u32 = 200;

    /// Checks `cells` is within 1 to 200.
    ///
    /// # Errors
    /// [`InvalidGridSide`] outside that range.
    pub fn new(cells: i64) -> Result<Self, InvalidGridSide> {
        u32::try_from(cells)
            .ok()
            .filter(|cells| (1..=Self::MAX).contains(cells))
            .map(Self)
            .ok_or(InvalidGridSide)
    }

    /// The number of cells.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

/// A user's garden: a named grid of `width` × `length` cells, 0-based (0 <= x < width,
/// 0 <= y < length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Garden {
    pub id: GardenId,
    /// The owner's tenant.
    pub tenant_id: TenantId,
    /// The owner.
    pub owner: UserId,
    /// What the owner calls it.
    pub name: GardenName,
    /// Cells along x.
    pub width: GridSide,
    /// Cells along y.
    pub length: GridSide,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Garden {
    /// Whether `cell` lies on the grid. A garden may shrink after cells were planted, so a
    /// stored planting can lie outside it.
    #[must_use]
    pub const fn contains(&self, cell: Cell) -> bool {
        cell.x < self.width.get() && cell.y < self.length.get()
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn grid_sides_of_one_and_two_hundred_are_accepted_zero_and_two_hundred_one_are_not() {
        assert_eq!(GridSide::new(1).map(GridSide::get), Ok(1));
        assert_eq!(GridSide::new(200).map(GridSide::get), Ok(200));
        for cells in [0, 201, -1, i64::MAX] {
            assert_eq!(GridSide::new(cells), Err(InvalidGridSide), "{cells}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            GardenName::parse("  Back yard ").unwrap().as_str(),
            "Back yard"
        );
        assert!(GardenName::parse(&"a".repeat(100)).is_ok());
        assert_eq!(GardenName::parse(&"a".repeat(101)), Err(InvalidGardenName));
        assert_eq!(GardenName::parse(" \t "), Err(InvalidGardenName));
    }

    #[test]
    fn the_grid_is_zero_based() {
        let now = Utc::now();
        let garden = Garden {
            id: GardenId::from_uuid(Uuid::now_v7()),
            tenant_id: TenantId::from_uuid(Uuid::now_v7()),
            owner: UserId::from_uuid(Uuid::now_v7()),
            name: GardenName::parse("Plot").unwrap(),
            width: GridSide::new(3).unwrap(),
            length: GridSide::new(2).unwrap(),
            created_at: now,
            updated_at: now,
        };
        assert!(garden.contains(Cell { x: 0, y: 0 }));
        assert!(garden.contains(Cell { x: 2, y: 1 }));
        assert!(!garden.contains(Cell { x: 3, y: 0 }));
        assert!(!garden.contains(Cell { x: 0, y: 2 }));
    }
}
