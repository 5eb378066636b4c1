//! Conversations between owners and their plants: messages, and what a message is about.

mod intent;
mod message;

pub use intent::Intent;
pub use message::{Channel, ChatText, Direction, InvalidChatText, Message, MessageId, ReplySource};
