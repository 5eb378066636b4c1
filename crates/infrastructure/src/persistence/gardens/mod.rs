//! Gardens, plantings, planting events and the compliance audit.

mod compliance;
mod gardens;
mod plantings;

pub use compliance::SeaOrmComplianceAudit;
pub use gardens::SeaOrmGardenRepository;
pub use plantings::SeaOrmPlantingRepository;
