//! The rule engine: findings about a garden's layout, computed over a spatial index.
//!
//! [`GardenLayout`] sorts the plantings that occupy a cell (planned and active ones) by cell
//! once, with an offset table per cell, and each rule then reads only a cell and its 8
//! neighbours. No rule compares all pairs, so a 200 × 200 garden with 10,000
//! plantings is analysed in well under a millisecond per rule (docs/capacity-planning.md).
//!
//! The rules, their severities and the plantings they name (SPEC §5.1, §5.2):
//! - `antagonistic_neighbours` (warning) and `beneficial_neighbours` (info): two plantings in
//!   neighbouring cells (the 8 around a cell) whose species are companions of that kind; one
//!   finding per pair.
//! - `shared_cell` (error): two or more plantings in one cell; one finding per cell. Plantings
//!   sharing a cell are not each other's neighbours.
//! - `out_of_grid` (error): a planting outside the grid (the garden shrank); one per planting.
//!   It is nobody's neighbour and shares no cell.
//! - `restricted_crop` (error): a planting of a restricted species; one per planting.

use std::collections::HashMap;

use super::{Cell, Planting, PlantingId};
use crate::{
    catalog::{CatalogPlant, CatalogPlantId, CompanionKind, CompanionLink},
    wire::wire_names,
};

/// A rule of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// Species that hinder each other in neighbouring cells.
    AntagonisticNeighbours,
    /// Species that help each other in neighbouring cells.
    BeneficialNeighbours,
    /// Several plantings in one cell.
    SharedCell,
    /// A planting outside the grid.
    OutOfGrid,
    /// A restricted species.
    RestrictedCrop,
}

wire_names!(Rule {
    AntagonisticNeighbours => "antagonistic_neighbours",
    BeneficialNeighbours => "beneficial_neighbours",
    SharedCell => "shared_cell",
    OutOfGrid => "out_of_grid",
    RestrictedCrop => "restricted_crop",
});

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Good to know.
    Info,
    /// Worth changing.
    Warning,
    /// Must be changed.
    Error,
}

wire_names!(Severity {
    Info => "info",
    Warning => "warning",
    Error => "error",
});

impl Rule {
    /// The severity of the rule's findings.
    #[must_use]
    pub const fn severity(self) -> Severity {
        match self {
            Self::BeneficialNeighbours => Severity::Info,
            Self::AntagonisticNeighbours => Severity::Warning,
            Self::SharedCell | Self::OutOfGrid | Self::RestrictedCrop => Severity::Error,
        }
    }
}

/// One finding: which rule, how much it matters, what it says and which plantings it names
/// (in id order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// Its severity.
    pub severity: Severity,
    /// What it says, for people.
    pub message: String,
    /// The plantings it is about, in id order.
    pub planting_ids: Vec<PlantingId>,
}

impl Finding {
    fn new(rule: Rule, message: String, mut planting_ids: Vec<PlantingId>) -> Self {
        planting_ids.sort_unstable();
        Self {
            rule,
            severity: rule.severity(),
            message,
            planting_ids,
        }
    }
}

/// What the engine knows about species: names, restrictions and companion relationships.
#[derive(Debug, Clone, Default)]
pub struct SpeciesBook {
    names: HashMap<CatalogPlantId, String>,
    restricted: HashMap<CatalogPlantId, String>,
    /// For each species, its companions: short lists, scanned.
    companions: HashMap<CatalogPlantId, Vec<(CatalogPlantId, CompanionKind, String)>>,
}

impl SpeciesBook {
    /// The book of a catalog.
    #[must_use]
    pub fn new(plants: &[CatalogPlant], links: &[CompanionLink]) -> Self {
        let mut book = Self::default();
        for plant in plants {
            book.names.insert(plant.id, plant.common_name.clone());
            if let Some(reason) = &plant.restricted_reason {
                book.restricted.insert(plant.id, reason.clone());
            }
        }
        for link in links {
            let entry = (link.companion, link.kind, link.reason.clone());
            book.companions.entry(link.plant).or_default().push(entry);
            if link.plant != link.companion {
                let mirrored = (link.plant, link.kind, link.reason.clone());
                book.companions
                    .entry(link.companion)
                    .or_default()
                    .push(mirrored);
            }
        }
        book
    }

    fn name(&self, id: CatalogPlantId) -> &str {
        self.names
            .get(&id)
            .map_or("an unknown plant", String::as_str)
    }

    /// Why two species are companions of `kind`, when they are. Links are stored one way
    /// round; both directions count, and a pair linked both ways with different kinds has both.
    #[must_use]
    pub fn relationship(
        &self,
        one: CatalogPlantId,
        other: CatalogPlantId,
        kind: CompanionKind,
    ) -> Option<&str> {
        self.companions.get(&one).and_then(|links| {
            links
                .iter()
                .find(|(companion, found, _)| *companion == other && *found == kind)
                .map(|(_, _, reason)| reason.as_str())
        })
    }

    /// Why planting the species is restricted, when it is.
    #[must_use]
    pub fn restriction(&self, id: CatalogPlantId) -> Option<&str> {
        self.restricted.get(&id).map(String::as_str)
    }
}

/// A garden's plantings sorted into its grid: the spatial index every rule reads.
#[derive(Debug)]
pub struct GardenLayout<'a> {
    width: u32,
    length: u32,
    /// Occupying plantings inside the grid, grouped by cell (row-major), in id order within a
    /// cell.
    by_cell: Vec<&'a Planting>,
    /// `by_cell[cell_start[i]..cell_start[i + 1]]` are the plantings of cell `i`.
    cell_start: Vec<u32>,
    /// Occupying plantings outside the grid.
    outside: Vec<&'a Planting>,
}

impl<'a> GardenLayout<'a> {
    /// Indexes the plantings of a `width` × `length` garden that occupy a cell (planned and
    /// active ones).
    #[must_use]
    pub fn new(width: u32, length: u32, plantings: &'a [Planting]) -> Self {
        let cells = width as usize * length as usize;
        let mut counts = vec![0_u32; cells + 1];
        let mut inside = Vec::with_capacity(plantings.len());
        let mut outside = Vec::new();
        for planting in plantings.iter().filter(|p| p.status.occupies_cell()) {
            if planting.cell.x < width && planting.cell.y < length {
                let key = key_of(width, planting.cell);
                counts[key + 1] += 1;
                inside.push((key, planting));
            } else {
                outside.push(planting);
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        inside.sort_unstable_by_key(|(key, planting)| (*key, planting.id));
        outside.sort_unstable_by_key(|planting| planting.id);
        Self {
            width,
            length,
            by_cell: inside.into_iter().map(|(_, planting)| planting).collect(),
            cell_start: counts,
            outside,
        }
    }

    fn range(&self, key: usize) -> std::ops::Range<usize> {
        self.cell_start[key] as usize..self.cell_start[key + 1] as usize
    }

    /// The occupying plantings of `cell`, in id order; none outside the grid.
    #[must_use]
    pub fn at(&self, cell: Cell) -> &[&'a Planting] {
        if cell.x < self.width && cell.y < self.length {
            &self.by_cell[self.range(key_of(self.width, cell))]
        } else {
            &[]
        }
    }

    /// The grid as rows: `rows()[y][x]` is the first planting (in id order) of cell (x, y).
    #[must_use]
    pub fn rows(&self) -> Vec<Vec<Option<&'a Planting>>> {
        (0..self.length)
            .map(|y| {
                (0..self.width)
                    .map(|x| self.at(Cell { x, y }).first().copied())
                    .collect()
            })
            .collect()
    }

    /// The findings of one rule, in the order of their planting ids.
    #[must_use]
    pub fn findings(&self, rule: Rule, book: &SpeciesBook) -> Vec<Finding> {
        let mut findings = match rule {
            Rule::AntagonisticNeighbours => self.neighbours(CompanionKind::Antagonistic, book),
            Rule::BeneficialNeighbours => self.neighbours(CompanionKind::Beneficial, book),
            Rule::SharedCell => self.shared_cells(),
            Rule::OutOfGrid => self.out_of_grid(book),
            Rule::RestrictedCrop => self.restricted(book),
        };
        findings.sort_unstable_by(|a, b| a.planting_ids.cmp(&b.planting_ids));
        findings
    }

    /// The findings of every rule, rule by rule.
    #[must_use]
    pub fn all_findings(&self, book: &SpeciesBook) -> Vec<Finding> {
        Rule::ALL
            .into_iter()
            .flat_map(|rule| self.findings(rule, book))
            .collect()
    }

    fn neighbours(&self, kind: CompanionKind, book: &SpeciesBook) -> Vec<Finding> {
        // Each unordered pair of neighbouring cells is visited once, from the cell that comes
        // first in row-major order: its right, lower-left, lower and lower-right neighbours.
        const FORWARD: [(i64, i64); 4] = [(1, 0), (-1, 1), (0, 1), (1, 1)];
        let mut findings = Vec::new();
        for (cell, here) in self.occupied_cells() {
            for (dx, dy) in FORWARD {
                let (nx, ny) = (i64::from(cell.x) + dx, i64::from(cell.y) + dy);
                let (Ok(nx), Ok(ny)) = (u32::try_from(nx), u32::try_from(ny)) else {
                    continue;
                };
                for one in here {
                    for other in self.at(Cell { x: nx, y: ny }) {
                        if let Some(reason) =
                            book.relationship(one.catalog_plant_id, other.catalog_plant_id, kind)
                        {
                            findings.push(neighbour_finding(kind, one, other, reason, book));
                        }
                    }
                }
            }
        }
        findings
    }

    /// Each cell holding plantings, with them, in row-major order: the rules walk the plantings,
    /// not the grid, so a large, sparse garden costs no more than its plantings.
    fn occupied_cells(&self) -> impl Iterator<Item = (Cell, &[&'a Planting])> {
        self.by_cell
            .chunk_by(|one, other| one.cell == other.cell)
            .map(|plantings| (plantings[0].cell, plantings))
    }

    fn shared_cells(&self) -> Vec<Finding> {
        self.occupied_cells()
            .filter(|(_, plantings)| plantings.len() > 1)
            .map(|(cell, plantings)| {
                Finding::new(
                    Rule::SharedCell,
                    format!(
                        "{} plantings share cell ({}, {})",
                        plantings.len(),
                        cell.x,
                        cell.y
                    ),
                    plantings.iter().map(|planting| planting.id).collect(),
                )
            })
            .collect()
    }

    fn out_of_grid(&self, book: &SpeciesBook) -> Vec<Finding> {
        self.outside
            .iter()
            .map(|planting| {
                Finding::new(
                    Rule::OutOfGrid,
                    format!(
                        "{} at ({}, {}) lies outside the {} × {} grid",
                        book.name(planting.catalog_plant_id),
                        planting.cell.x,
                        planting.cell.y,
                        self.width,
                        self.length
                    ),
                    vec![planting.id],
                )
            })
            .collect()
    }

    fn restricted(&self, book: &SpeciesBook) -> Vec<Finding> {
        self.by_cell
            .iter()
            .chain(&self.outside)
            .filter_map(|planting| {
                book.restriction(planting.catalog_plant_id).map(|reason| {
                    Finding::new(
                        Rule::RestrictedCrop,
                        format!(
                            "{} is restricted: {reason}",
                            book.name(planting.catalog_plant_id)
                        ),
                        vec![planting.id],
                    )
                })
            })
            .collect()
    }
}

const fn key_of(width: u32, cell: Cell) -> usize {
    cell.y as usize * width as usize + cell.x as usize
}

fn neighbour_finding(
    kind: CompanionKind,
    one: &Planting,
    other: &Planting,
    reason: &str,
    book: &SpeciesBook,
) -> Finding {
    let rule = match kind {
        CompanionKind::Antagonistic => Rule::AntagonisticNeighbours,
        CompanionKind::Beneficial => Rule::BeneficialNeighbours,
    };
    Finding::new(
        rule,
        format!(
            "{} at ({}, {}) and {} at ({}, {}) are {} neighbours: {reason}",
            book.name(one.catalog_plant_id),
            one.cell.x,
            one.cell.y,
            book.name(other.catalog_plant_id),
            other.cell.x,
            other.cell.y,
            kind.as_str(),
        ),
        vec![one.id, other.id],
    )
}

#[cfg(test)]
mod tests;
