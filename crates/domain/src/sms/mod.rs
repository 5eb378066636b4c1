//! Text messages: what may be sent, and how a message's delivery status may move.

mod body;
mod status;

pub use body::{InvalidSmsBody, SmsBody};
pub use status::SmsStatus;
