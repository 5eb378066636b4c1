//! The ports conversations need: a chat model and the message store.

use async_trait::async_trait;
use domain::{chat::Message, identity::TenantId, plants::UserPlantId};

use crate::{
    paging::{Page, PageRequest},
    store::StoreError,
};

/// Who said a turn of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    /// The plant's owner.
    Owner,
    /// The plant.
    Plant,
}

/// One earlier turn of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// Who said it.
    pub speaker: Speaker,
    /// What was said.
    pub text: String,
}

/// What the chat model is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatPrompt {
    /// The personality's instructions.
    pub system_prompt: String,
    /// The turns before the new message, oldest first (at most ten).
    pub history: Vec<Turn>,
    /// The owner's new message.
    pub message: String,
}

/// Why the chat model gave no reply. Every variant ends in a fallback reply; they differ in what
/// operators should do.
#[derive(Debug, thiserror::Error)]
pub enum ChatModelError {
    /// The provider refused the request for good (bad request, bad key): retrying cannot help.
    #[error("the chat model refused the request with status {status}")]
    Refused {
        /// The provider's HTTP status.
        status: u16,
    },
    /// The account has no quota left.
    #[error("the chat model's quota is exhausted")]
    QuotaExhausted,
    /// Every attempt failed or timed out, or the time budget ran out.
    #[error("the chat model is unavailable after {attempts} attempt(s): {last_error}")]
    Unavailable {
        /// Attempts made.
        attempts: u32,
        /// What went wrong last.
        last_error: String,
    },
    /// The provider answered with something that is not a reply.
    #[error("the chat model's answer could not be read: {0}")]
    InvalidAnswer(String),
}

/// A chat model that writes a plant's reply.
#[async_trait]
pub trait ChatModel: Send + Sync {
    /// The plant's reply to `prompt`.
    ///
    /// # Errors
    /// [`ChatModelError`] when no reply could be had; the caller falls back to templates.
    async fn reply(&self, prompt: &ChatPrompt) -> Result<String, ChatModelError>;
}

/// Messages of conversations. Callers check that the plant is the caller's before calling; every
/// query is scoped by tenant as well.
#[async_trait]
pub trait MessageRepository: Send + Sync {
    /// The plant's `count` most recent messages, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn recent(
        &self,
        tenant_id: TenantId,
        plant_id: UserPlantId,
        count: u64,
    ) -> Result<Vec<Message>, StoreError>;

    /// Stores the owner's message and the plant's reply in one transaction: both or neither.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; nothing is stored then.
    async fn append_exchange(
        &self,
        tenant_id: TenantId,
        message: &Message,
        reply: &Message,
    ) -> Result<(), StoreError>;

    /// Stores one message by itself (a plant's reminder).
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn append(&self, tenant_id: TenantId, message: &Message) -> Result<(), StoreError>;

    /// One page of the plant's conversation, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn history(
        &self,
        tenant_id: TenantId,
        plant_id: UserPlantId,
        page: PageRequest,
    ) -> Result<Page<Message>, StoreError>;
}
