use std::sync::Arc;

use domain::{
    catalog::Personality,
    chat::{Channel, ChatText, Direction, Intent, Message, MessageId, ReplySource},
    plants::UserPlantId,
};

use super::ports::{ChatModel, ChatPrompt, MessageRepository, Speaker, Turn};
use crate::{
    catalog::Catalog,
    failure::{Failure, failed_from},
    flags::{FeatureFlags, Flag},
    metrics::{AiOutcome, Metrics},
    paging::{Page, PageRequest},
    plants::{
        Owner,
        ports::{OwnedPlant, UserPlantRepository},
    },
    system::{Clock, IdGenerator},
};

/// What the chat model is asked when a plant's watering is due.
const REMINDER_REQUEST: &str = "(It is time for your watering. Write your owner one short text \
message, under 300 characters, asking to be watered.)";

/// How many earlier messages the chat model sees.
pub const CONTEXT_MESSAGES: u64 = 10;

/// Everything conversations need, wired by the server.
#[derive(Clone)]
pub struct ConversationPorts {
    /// Users' plants, to check ownership and find the personality.
    pub plants: Arc<dyn UserPlantRepository>,
    pub messages: Arc<dyn MessageRepository>,
    /// Personalities.
    pub catalog: Catalog,
    /// The chat model; `None` when no API key is configured.
    pub model: Option<Arc<dyn ChatModel>>,
    /// The `ai_chat` switch.
    pub flags: Arc<dyn FeatureFlags>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for ConversationPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConversationPorts").finish_non_exhaustive()
    }
}

/// A plant's answer to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatReply {
    /// The reply's text.
    pub reply: String,
    /// The chat model, or the templates.
    pub source: ReplySource,
    /// The id of the stored reply.
    pub message_id: MessageId,
}

/// A text a plant sends by itself, such as a watering reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlantMessage {
    /// The plant's nickname, to sign the text with.
    pub nickname: String,
    /// What it says.
    pub text: String,
}

/// Why a conversation cannot go on. The chat model failing is not one of them: the templates
/// answer instead.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The caller has no such plant.
    #[error("no such plant")]
    PlantNotFound,
    /// A failure that is not the caller's: a dependency down (503) or a bug (500).
    #[error(transparent)]
    Failed(#[from] Failure),
}

failed_from!(ChatError);

/// The conversation use cases.
#[derive(Clone)]
pub struct Conversations {
    ports: ConversationPorts,
    metrics: Metrics,
}

impl std::fmt::Debug for Conversations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conversations").finish_non_exhaustive()
    }
}

impl Conversations {
    /// The use cases over `ports`.
    #[must_use]
    pub fn new(ports: ConversationPorts) -> Self {
        Self {
            ports,
            metrics: Metrics::default(),
        }
    }

    /// The use cases, counting the chat model's outcomes into `metrics`.
    #[must_use]
    pub fn recording_into(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Sends `text` to the caller's plant and returns its reply, from the chat model when it is
    /// configured, switched on and answers, else from the personality's template for the
    /// message's intent. The message and the reply are stored together.
    ///
    /// # Errors
    /// [`ChatError::PlantNotFound`] when the caller has no such plant.
    #[tracing::instrument(name = "chat.send", skip_all, fields(user_id = %owner.user_id, plant_id = %plant_id, channel = channel.as_str(), source))]
    pub async fn chat(
        &self,
        owner: Owner,
        plant_id: UserPlantId,
        text: &ChatText,
        channel: Channel,
    ) -> Result<ChatReply, ChatError> {
        let (owned, personality, recent) = self.context(owner, plant_id).await?;

        let (reply, source) = self
            .compose(
                &personality,
                &recent,
                text.as_str(),
                Intent::of(text.as_str()),
                owned.plant.nickname.as_str(),
            )
            .await;
        tracing::Span::current().record("source", source.as_str());

        let now = self.ports.clock.now();
        let message = Message {
            id: MessageId::from_uuid(self.ports.ids.new_id()),
            plant_id,
            direction: Direction::Inbound,
            channel,
            body: text.as_str().to_owned(),
            source: None,
            created_at: now,
        };
        let answer = Message {
            id: MessageId::from_uuid(self.ports.ids.new_id()),
            plant_id,
            direction: Direction::Outbound,
            channel,
            body: reply.clone(),
            source: Some(source),
            created_at: now,
        };
        self.ports
            .messages
            .append_exchange(owner.tenant_id, &message, &answer)
            .await?;
        Ok(ChatReply {
            reply,
            source,
            message_id: answer.id,
        })
    }

    /// Writes the plant's watering reminder — from the chat model when it is configured,
    /// switched on and answers, else the personality's watering template — and stores it as an
    /// outbound SMS message of the conversation.
    ///
    /// # Errors
    /// [`ChatError::PlantNotFound`] when the owner has no such plant (any more).
    #[tracing::instrument(name = "chat.reminder", skip_all, fields(user_id = %owner.user_id, plant_id = %plant_id, source))]
    pub async fn reminder(
        &self,
        owner: Owner,
        plant_id: UserPlantId,
    ) -> Result<PlantMessage, ChatError> {
        let (owned, personality, recent) = self.context(owner, plant_id).await?;
        let (text, source) = self
            .compose(
                &personality,
                &recent,
                REMINDER_REQUEST,
                Intent::Water,
                owned.plant.nickname.as_str(),
            )
            .await;
        tracing::Span::current().record("source", source.as_str());
        let message = Message {
            id: MessageId::from_uuid(self.ports.ids.new_id()),
            plant_id,
            direction: Direction::Outbound,
            channel: Channel::Sms,
            body: text.clone(),
            source: Some(source),
            created_at: self.ports.clock.now(),
        };
        self.ports
            .messages
            .append(owner.tenant_id, &message)
            .await?;
        Ok(PlantMessage {
            nickname: owned.plant.nickname.as_str().to_owned(),
            text,
        })
    }

    /// One page of the conversation with the caller's plant, newest first.
    ///
    /// # Errors
    /// [`ChatError::PlantNotFound`] when the caller has no such plant.
    #[tracing::instrument(name = "chat.history", skip_all, fields(user_id = %owner.user_id, plant_id = %plant_id))]
    pub async fn history(
        &self,
        owner: Owner,
        plant_id: UserPlantId,
        page: PageRequest,
    ) -> Result<Page<Message>, ChatError> {
        if self.ports.plants.find(owner, plant_id).await?.is_none() {
            return Err(ChatError::PlantNotFound);
        }
        Ok(self
            .ports
            .messages
            .history(owner.tenant_id, plant_id, page)
            .await?)
    }
}

impl Conversations {
    /// The owner's plant, its personality and the conversation's last messages, oldest first.
    async fn context(
        &self,
        owner: Owner,
        plant_id: UserPlantId,
    ) -> Result<(OwnedPlant, Personality, Vec<Message>), ChatError> {
        let (owned, mut recent) = self
            .ports
            .plants
            .find_with_recent_messages(owner, plant_id, CONTEXT_MESSAGES)
            .await?
            .ok_or(ChatError::PlantNotFound)?;
        let personality = self
            .ports
            .catalog
            .personality(&owned.plant.personality)
            .await?
            .ok_or_else(|| {
                ChatError::Failed(Failure::Unexpected(
                    format!(
                        "personality {} is not in the catalog",
                        owned.plant.personality
                    )
                    .into(),
                ))
            })?;
        recent.reverse();
        Ok((owned, personality, recent))
    }

    /// The model's answer to `message` after `recent` (oldest first) when the model is
    /// configured, switched on and says something; else the template for `intent`.
    async fn compose(
        &self,
        personality: &Personality,
        recent: &[Message],
        message: &str,
        intent: Intent,
        nickname: &str,
    ) -> (String, ReplySource) {
        if let Some(model) = &self.ports.model
            && self.ports.flags.is_enabled(Flag::AiChat)
        {
            let prompt = ChatPrompt {
                system_prompt: personality.system_prompt.clone(),
                history: recent.iter().map(turn_of).collect(),
                message: message.to_owned(),
            };
            match model.reply(&prompt).await {
                Ok(reply) if !reply.trim().is_empty() => {
                    self.metrics.record_ai_request(AiOutcome::Success);
                    return (reply.trim().to_owned(), ReplySource::Ai);
                }
                Ok(_) => tracing::warn!("the chat model answered with nothing; using a template"),
                Err(error) => {
                    tracing::warn!(error = %error, "the chat model failed; using a template");
                }
            }
            self.metrics.record_ai_request(AiOutcome::Fallback);
        }
        let last_reply = recent
            .iter()
            .rev()
            .find(|message| message.direction == Direction::Outbound)
            .map(|message| message.body.as_str());
        let pick = u64::try_from(recent.len()).unwrap_or(0);
        let reply = personality.fallback_reply_after(last_reply, intent, nickname, pick);
        (reply, ReplySource::Fallback)
    }
}

fn turn_of(message: &Message) -> Turn {
    Turn {
        speaker: match message.direction {
            Direction::Inbound => Speaker::Owner,
            Direction::Outbound => Speaker::Plant,
        },
        text: message.body.clone(),
    }
}
