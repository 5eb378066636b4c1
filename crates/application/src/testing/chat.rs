//! Fakes of the conversation ports: the message store, kept in memory with the tenant scoping and
//! newest-first order of the database adapter, and a chat model that answers from a script.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use domain::{chat::Message, identity::TenantId, plants::UserPlantId};

use super::{
    Outage, lock,
    plants::{keyset_page, refused},
};
use crate::{
    chat::{ChatModel, ChatModelError, ChatPrompt, MessageRepository},
    paging::{Page, PageRequest},
    store::StoreError,
};

/// A message as the store keeps it: with the tenant every query is scoped by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The tenant it was written under.
    pub tenant_id: TenantId,
    /// The message.
    pub message: Message,
}

/// In-memory [`MessageRepository`]: a plant's messages under another tenant are invisible,
/// reads are newest first (by id, UUID v7) with keyset paging, a message id is stored once, and
/// an exchange is stored whole or not at all.
///
/// It does not check that the plant exists (the database's foreign key does): pair it with
/// [`super::plants::InMemoryUserPlants`] (`plants.messages()`) for a plant's deletion to take its
/// conversation along. Clones share the data.
#[derive(Debug, Clone, Default)]
pub struct InMemoryMessages {
    outage: Outage,
    rows: Arc<Mutex<Vec<StoredMessage>>>,
}

impl InMemoryMessages {
    /// An empty store, down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            rows: Arc::default(),
        }
    }

    /// Seeds a message, bypassing the port (replacing one with the same id).
    pub fn insert(&self, tenant_id: TenantId, message: Message) {
        let mut rows = lock(&self.rows);
        rows.retain(|row| row.message.id != message.id);
        rows.push(StoredMessage { tenant_id, message });
    }

    /// Every stored message, in the order stored.
    #[must_use]
    pub fn stored(&self) -> Vec<StoredMessage> {
        lock(&self.rows).clone()
    }

    /// The conversation of `plant` under `tenant_id`, oldest first (by id).
    #[must_use]
    pub fn conversation(&self, tenant_id: TenantId, plant: UserPlantId) -> Vec<Message> {
        let mut messages: Vec<Message> = lock(&self.rows)
            .iter()
            .filter(|row| row.tenant_id == tenant_id && row.message.plant_id == plant)
            .map(|row| row.message.clone())
            .collect();
        messages.sort_by_key(|message| message.id);
        messages
    }

    /// Deletes the messages of `plant`: the cascade of a plant's deletion.
    pub(super) fn remove_plant(&self, plant: UserPlantId) {
        lock(&self.rows).retain(|row| row.message.plant_id != plant);
    }

    /// The plant's messages under the tenant, newest first.
    fn of_plant(&self, tenant_id: TenantId, plant: UserPlantId) -> Vec<Message> {
        let mut messages = self.conversation(tenant_id, plant);
        messages.reverse();
        messages
    }
}

#[async_trait]
impl MessageRepository for InMemoryMessages {
    async fn recent(
        &self,
        tenant_id: TenantId,
        plant_id: UserPlantId,
        count: u64,
    ) -> Result<Vec<Message>, StoreError> {
        self.outage.check()?;
        let mut messages = self.of_plant(tenant_id, plant_id);
        messages.truncate(usize::try_from(count).unwrap_or(usize::MAX));
        Ok(messages)
    }

    async fn append_exchange(
        &self,
        tenant_id: TenantId,
        message: &Message,
        reply: &Message,
    ) -> Result<(), StoreError> {
        self.outage.check()?;
        let mut rows = lock(&self.rows);
        let taken = message.id == reply.id
            || rows
                .iter()
                .any(|row| row.message.id == message.id || row.message.id == reply.id);
        if taken {
            return Err(refused("duplicate message id: neither message stored"));
        }
        for stored in [message, reply] {
            rows.push(StoredMessage {
                tenant_id,
                message: stored.clone(),
            });
        }
        Ok(())
    }

    async fn append(&self, tenant_id: TenantId, message: &Message) -> Result<(), StoreError> {
        self.outage.check()?;
        let mut rows = lock(&self.rows);
        if rows.iter().any(|row| row.message.id == message.id) {
            return Err(refused(format!("duplicate message id {}", message.id)));
        }
        rows.push(StoredMessage {
            tenant_id,
            message: message.clone(),
        });
        Ok(())
    }

    async fn history(
        &self,
        tenant_id: TenantId,
        plant_id: UserPlantId,
        page: PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        self.outage.check()?;
        Ok(keyset_page(
            self.of_plant(tenant_id, plant_id),
            page,
            false,
            |message| message.id.as_uuid(),
        ))
    }
}

/// What the scripted chat model answers when its script is empty.
pub const FIXED_REPLY: &str = "Thanks for checking on me! I'm doing great.";

#[derive(Debug)]
struct ChatScript {
    answers: VecDeque<Result<String, ChatModelError>>,
    prompts: Vec<ChatPrompt>,
    fixed_reply: String,
}

/// A [`ChatModel`] that answers from a script — queued replies and errors, one per call, in
/// order — then a fixed reply, and records every prompt it got. Clones share the script.
#[derive(Debug, Clone)]
pub struct ScriptedChatModel {
    script: Arc<Mutex<ChatScript>>,
}

impl Default for ScriptedChatModel {
    fn default() -> Self {
        Self::answering(FIXED_REPLY)
    }
}

impl ScriptedChatModel {
    /// A model with an empty script, answering [`FIXED_REPLY`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A model with an empty script, answering `fixed_reply` to every prompt.
    #[must_use]
    pub fn answering(fixed_reply: &str) -> Self {
        Self {
            script: Arc::new(Mutex::new(ChatScript {
                answers: VecDeque::new(),
                prompts: Vec::new(),
                fixed_reply: fixed_reply.to_owned(),
            })),
        }
    }

    /// Queues `reply` as the answer to a coming call.
    pub fn push_reply(&self, reply: &str) {
        lock(&self.script).answers.push_back(Ok(reply.to_owned()));
    }

    /// Queues `error` as the outcome of a coming call.
    pub fn push_error(&self, error: ChatModelError) {
        lock(&self.script).answers.push_back(Err(error));
    }

    /// Every prompt received, in order.
    #[must_use]
    pub fn prompts(&self) -> Vec<ChatPrompt> {
        lock(&self.script).prompts.clone()
    }

    /// How many times the model was asked.
    #[must_use]
    pub fn calls(&self) -> usize {
        lock(&self.script).prompts.len()
    }
}

#[async_trait]
impl ChatModel for ScriptedChatModel {
    async fn reply(&self, prompt: &ChatPrompt) -> Result<String, ChatModelError> {
        let mut script = lock(&self.script);
        script.prompts.push(prompt.clone());
        match script.answers.pop_front() {
            Some(answer) => answer,
            None => Ok(script.fixed_reply.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, Utc};
    use domain::chat::{Channel, Direction, MessageId};
    use uuid::Uuid;

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn message(plant: UserPlantId, body: &str, minute: i64) -> Message {
        Message {
            id: MessageId::from_uuid(Uuid::now_v7()),
            plant_id: plant,
            direction: Direction::Inbound,
            channel: Channel::Web,
            body: body.to_owned(),
            source: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH + TimeDelta::minutes(minute),
        }
    }

    #[tokio::test]
    async fn messages_are_newest_first_paged_and_invisible_to_another_tenant() -> TestResult {
        let messages = InMemoryMessages::default();
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        let plant = UserPlantId::from_uuid(Uuid::now_v7());
        let (first, second, third) = (
            message(plant, "one", 0),
            message(plant, "two", 1),
            message(plant, "three", 2),
        );
        messages.append(tenant, &first).await?;
        messages.append_exchange(tenant, &second, &third).await?;
        let recent = messages.recent(tenant, plant, 2).await?;
        assert_eq!(recent, [third.clone(), second.clone()]);
        let page = messages
            .history(
                tenant,
                plant,
                PageRequest {
                    limit: 2,
                    after: None,
                },
            )
            .await?;
        assert_eq!(page.next_after, Some(second.id.as_uuid()));
        let rest = messages
            .history(
                tenant,
                plant,
                PageRequest {
                    limit: 2,
                    after: page.next_after,
                },
            )
            .await?;
        assert_eq!(rest.items, [first]);
        let other = TenantId::from_uuid(Uuid::now_v7());
        assert!(messages.recent(other, plant, 10).await?.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn an_exchange_is_stored_whole_or_not_at_all() -> TestResult {
        let messages = InMemoryMessages::default();
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        let plant = UserPlantId::from_uuid(Uuid::now_v7());
        let stored = message(plant, "one", 0);
        messages.append(tenant, &stored).await?;
        let fresh = message(plant, "two", 1);
        assert!(
            messages
                .append_exchange(tenant, &fresh, &stored)
                .await
                .is_err()
        );
        assert_eq!(messages.stored().len(), 1);
        let outage = Outage::default();
        let down = InMemoryMessages::new(outage.clone());
        outage.begin();
        assert!(matches!(
            down.append(tenant, &fresh).await,
            Err(StoreError::Unavailable(_))
        ));
        Ok(())
    }

    #[tokio::test]
    async fn the_model_follows_its_script_then_answers_the_fixed_reply() {
        let model = ScriptedChatModel::answering("fixed");
        model.push_reply("first");
        model.push_error(ChatModelError::QuotaExhausted);
        let prompt = ChatPrompt {
            system_prompt: "be a fern".to_owned(),
            history: Vec::new(),
            message: "hello".to_owned(),
        };
        assert_eq!(model.reply(&prompt).await.ok(), Some("first".to_owned()));
        assert!(matches!(
            model.reply(&prompt).await,
            Err(ChatModelError::QuotaExhausted)
        ));
        assert_eq!(model.reply(&prompt).await.ok(), Some("fixed".to_owned()));
        assert_eq!(model.prompts(), vec![prompt; 3]);
    }
}
