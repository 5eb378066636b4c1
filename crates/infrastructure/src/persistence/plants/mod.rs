//! Users' plants and their conversations.

mod messages;
mod user_plants;

pub use messages::SeaOrmMessageRepository;
pub use user_plants::SeaOrmUserPlantRepository;
