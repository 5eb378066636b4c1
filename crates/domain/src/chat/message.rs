use chrono::{DateTime, Utc};

use crate::{ids::uuid_id, plants::UserPlantId, wire::wire_names};

uuid_id!(
    /// The id of a message.
    MessageId
);

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the owner to the plant.
    Inbound,
    /// From the plant to the owner.
    Outbound,
}

/// Where a message was exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The API (web or app).
    Web,
    /// Text messages.
    Sms,
}

/// Who wrote a plant's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplySource {
    /// The chat model.
    Ai,
    /// The personality's templates.
    Fallback,
}

wire_names!(Direction { Inbound => "inbound", Outbound => "outbound" });
wire_names!(Channel { Web => "web", Sms => "sms" });
wire_names!(ReplySource { Ai => "ai", Fallback => "fallback" });

/// What an owner writes to a plant: 1-1000 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatText(String);

/// Why a text cannot be sent to a plant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 1000 characters")]
pub struct InvalidChatText;

impl ChatText {
    /// Longest message, in characters.
    pub const MAX_CHARS: usize = 1000;

    /// Trims `text` and checks its length.
    ///
    /// # Errors
    /// [`InvalidChatText`] when it is blank or too long.
    pub fn parse(text: &str) -> Result<Self, InvalidChatText> {
        let trimmed = text.trim();
        if (1..=Self::MAX_CHARS).contains(&trimmed.chars().count()) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(InvalidChatText)
        }
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One message of a conversation with a plant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    /// The plant of the conversation.
    pub plant_id: UserPlantId,
    /// To or from the plant.
    pub direction: Direction,
    /// Web or SMS.
    pub channel: Channel,
    /// The text.
    pub body: String,
    /// Who wrote a reply; `None` for the owner's own messages.
    pub source: Option<ReplySource>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for d in [Direction::Inbound, Direction::Outbound] {
            assert_eq!(d.as_str().parse::<Direction>(), Ok(d));
        }
        for c in [Channel::Web, Channel::Sms] {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
        }
        for s in [ReplySource::Ai, ReplySource::Fallback] {
            assert_eq!(s.as_str().parse::<ReplySource>(), Ok(s));
        }
        assert!("email".parse::<Channel>().is_err());
    }

    #[test]
    fn a_chat_text_is_trimmed_and_between_one_and_a_thousand_characters() {
        assert_eq!(ChatText::parse("  hi  ").unwrap().as_str(), "hi");
        assert!(ChatText::parse(&"é".repeat(1000)).is_ok());
        assert_eq!(ChatText::parse("   "), Err(InvalidChatText));
        assert_eq!(ChatText::parse(&"a".repeat(1001)), Err(InvalidChatText));
    }
}
