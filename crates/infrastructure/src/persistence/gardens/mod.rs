//! Gardens, plantings, planting events and the compliance audit.

mod compliance;
mod garden_repository;
mod plantings;

pub use compliance::SeaOrmComplianceAudit;
pub use garden_repository::SeaOrmGardenRepository;
pub use plantings::SeaOrmPlantingRepository;
