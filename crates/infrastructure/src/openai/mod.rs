//! The OpenAI chat completions API behind the `ChatModel` port.

mod chat_model;
mod pause;

pub use chat_model::{OpenAiChatModel, OpenAiError, OpenAiSettings};
pub use pause::{Pause, TokioPause};
