//! Texts from owners: carrier keywords, then a conversation with the plant they name or the one
//! they talked to last. Each provider message is processed once, however often it is delivered.

use std::sync::Arc;

use domain::{
    chat::{Channel, ChatText},
    phone::PhoneNumber,
    sms::{Addressed, Keyword},
};

use super::ports::{InboundClaim, InboundSmsLog, SmsAccounts};
use crate::{
    chat::{ChatError, Conversations},
    failure::Failure,
    plants::{Owner, ports::UserPlantRepository},
    store::StoreError,
    system::Clock,
};

/// The answer to a number no account has.
pub const UNKNOWN_NUMBER_REPLY: &str = "Plant Texts: this number is not linked to an account. Add it to your profile in the app, then text your plants here.";
/// The answer to STOP and its synonyms.
pub const OPTED_OUT_REPLY: &str =
    "Plant Texts: you will get no more reminders. Text START to get them again.";
/// The answer to START and its synonyms.
pub const OPTED_IN_REPLY: &str =
    "Plant Texts: reminders are back on. Text STOP to stop them, HELP for help.";
/// The answer to HELP and INFO.
pub const HELP_REPLY: &str = "Plant Texts: text a plant by name (\"Fern: how are you?\") or just write to the plant you talked to last. STOP ends reminders, START resumes them.";
/// The answer to an owner without plants.
pub const NO_PLANT_REPLY: &str =
    "Plant Texts: you have no plants yet. Add one in the app, then text it here.";
/// The answer to a text a plant cannot read.
pub const UNREADABLE_REPLY: &str = "Plant Texts: messages to plants must be 1 to 1000 characters.";

/// A text received from the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingSms {
    /// The provider's id of the message (Twilio's MessageSid).
    pub message_sid: String,
    /// Who sent it.
    pub from: PhoneNumber,
    /// What it says.
    pub body: String,
}

/// Everything inbound texts need, wired by the server.
#[derive(Clone)]
pub struct InboundPorts {
    /// Accounts by phone number.
    pub accounts: Arc<dyn SmsAccounts>,
    /// Messages already received.
    pub received: Arc<dyn InboundSmsLog>,
    /// The owners' plants.
    pub plants: Arc<dyn UserPlantRepository>,
    /// The conversation with a plant.
    pub conversations: Conversations,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for InboundPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundPorts").finish_non_exhaustive()
    }
}

/// Why an inbound text could not be answered: a dependency down (503, Twilio retries) or a bug.
#[derive(Debug, thiserror::Error)]
#[error("the inbound SMS could not be processed")]
pub struct InboundSmsError(#[source] pub Failure);

impl From<StoreError> for InboundSmsError {
    fn from(error: StoreError) -> Self {
        Self(error.into())
    }
}

impl From<ChatError> for InboundSmsError {
    fn from(error: ChatError) -> Self {
        match error {
            ChatError::Failed(failure) => Self(failure),
            other @ ChatError::PlantNotFound => Self(Failure::unexpected(other)),
        }
    }
}

/// The inbound-text use case.
#[derive(Clone)]
pub struct InboundTexts {
    ports: InboundPorts,
}

impl std::fmt::Debug for InboundTexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundTexts").finish_non_exhaustive()
    }
}

impl InboundTexts {
    /// The use case over `ports`.
    #[must_use]
    pub const fn new(ports: InboundPorts) -> Self {
        Self { ports }
    }

    /// The answer to `sms`; `None` when there is nothing to say (a repeated delivery of a message
    /// still being answered). A repeated message gets its first answer without being processed
    /// again.
    ///
    /// # Errors
    /// [`InboundSmsError`] when the store fails.
    #[tracing::instrument(name = "sms.receive", skip_all, fields(from = %sms.from.masked(), outcome))]
    pub async fn receive(&self, sms: &IncomingSms) -> Result<Option<String>, InboundSmsError> {
        let account = self.ports.accounts.find_by_phone(&sms.from).await?;
        let claim = self
            .ports
            .received
            .claim(
                &sms.message_sid,
                account.map(|account| account.owner.user_id),
                self.ports.clock.now(),
            )
            .await?;
        match claim {
            InboundClaim::First => {}
            InboundClaim::Answered(reply) => {
                tracing::Span::current().record("outcome", "repeated");
                return Ok(Some(reply));
            }
            InboundClaim::InProgress => {
                tracing::Span::current().record("outcome", "in_progress");
                return Ok(None);
            }
        }
        let reply = match account {
            None => {
                tracing::Span::current().record("outcome", "unknown_number");
                UNKNOWN_NUMBER_REPLY.to_owned()
            }
            Some(account) => match self.answer(account.owner, &sms.body).await {
                Ok(reply) => reply,
                Err(error) => {
                    // Unclaimed again, so that the provider's retry is processed, not ignored.
                    if let Err(release) = self.ports.received.release(&sms.message_sid).await {
                        tracing::error!(error = %release, "inbound claim not released");
                    }
                    return Err(error);
                }
            },
        };
        self.ports
            .received
            .answered(&sms.message_sid, &reply)
            .await?;
        Ok(Some(reply))
    }

    async fn answer(&self, owner: Owner, body: &str) -> Result<String, InboundSmsError> {
        let now = self.ports.clock.now();
        let span = tracing::Span::current();
        match Keyword::of(body) {
            Some(Keyword::OptOut) => {
                span.record("outcome", "opt_out");
                self.ports
                    .accounts
                    .set_sms_opt_in(owner, false, now)
                    .await?;
                return Ok(OPTED_OUT_REPLY.to_owned());
            }
            Some(Keyword::OptIn) => {
                span.record("outcome", "opt_in");
                self.ports.accounts.set_sms_opt_in(owner, true, now).await?;
                return Ok(OPTED_IN_REPLY.to_owned());
            }
            Some(Keyword::Help) => {
                span.record("outcome", "help");
                return Ok(HELP_REPLY.to_owned());
            }
            None => {}
        }
        let addressed = Addressed::parse(body);
        let named = match addressed.nickname {
            Some(nickname) => self.ports.plants.find_by_nickname(owner, nickname).await?,
            None => None,
        };
        let (plant, text) = match named {
            Some(plant) => (plant, addressed.text),
            None => match self.ports.plants.most_recent(owner).await? {
                Some(plant) => (plant, body.trim()),
                None => {
                    span.record("outcome", "no_plant");
                    return Ok(NO_PLANT_REPLY.to_owned());
                }
            },
        };
        let Ok(text) = ChatText::parse(text) else {
            span.record("outcome", "unreadable");
            return Ok(UNREADABLE_REPLY.to_owned());
        };
        span.record("outcome", "chat");
        let reply = self
            .ports
            .conversations
            .chat(owner, plant.id, &text, Channel::Sms)
            .await?;
        Ok(format!("{}: {}", plant.nickname.as_str(), reply.reply))
    }
}
