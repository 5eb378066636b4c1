//! Conversations with plants: a reply from the chat model or, failing that, from the
//! personality's templates, and the history of each conversation.

pub mod ports;
mod service;

pub use ports::{ChatModel, ChatModelError, ChatPrompt, MessageRepository, Speaker, Turn};
pub use service::{ChatError, ChatReply, ConversationPorts, Conversations, PlantMessage};
