//! The plants users own: their nicknames, personalities and watering schedule.

mod nickname;
mod user_plant;

pub use nickname::{InvalidNickname, Nickname};
pub use user_plant::{UserPlant, UserPlantId, next_watering};
