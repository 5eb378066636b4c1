use chrono::{DateTime, Utc};

use super::PlantingId;
use crate::{
    identity::{TenantId, UserId},
    ids::uuid_id,
    wire::wire_names,
};

uuid_id!(
    /// The id of a planting event.
    PlantingEventId
);

/// What happened to a planting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Seeds went in.
    Sown,
    /// It was watered.
    Watered,
    /// It was fed.
    Fertilized,
    /// It was cut back.
    Pruned,
    /// Its crop was picked.
    Harvested,
    /// Anything else worth writing down.
    Note,
}

wire_names!(EventKind {
    Sown => "sown",
    Watered => "watered",
    Fertilized => "fertilized",
    Pruned => "pruned",
    Harvested => "harvested",
    Note => "note",
});

/// Free notes on an event: up to 1,000 characters, line breaks allowed, other control
/// characters not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventNotes(String);

/// Why a text is not an event's notes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be at most 1000 characters without control characters other than line breaks")]
pub struct InvalidEventNotes;

impl EventNotes {
    /// Longest notes, in characters.
    pub const MAX_CHARS: usize = 1000;

    /// Checks the length and characters of `text`, kept as written.
    ///
    /// # Errors
    /// [`InvalidEventNotes`] when it is too long or holds control characters.
    pub fn parse(text: &str) -> Result<Self, InvalidEventNotes> {
        let printable = text
            .chars()
            .all(|c| !c.is_control() || c == '\n' || c == '\r' || c == '\t');
        if printable && text.chars().count() <= Self::MAX_CHARS {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidEventNotes)
        }
    }

    /// The notes.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Something that happened to a planting, at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlantingEvent {
    pub id: PlantingEventId,
    /// The owner's tenant.
    pub tenant_id: TenantId,
    /// The owner.
    pub owner: UserId,
    /// The planting.
    pub planting_id: PlantingId,
    /// What happened.
    pub kind: EventKind,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Free notes.
    pub notes: Option<EventNotes>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_keep_line_breaks_and_refuse_other_control_characters_and_length() {
        assert_eq!(EventNotes::parse("a\nb").unwrap().as_str(), "a\nb");
        assert!(EventNotes::parse("").is_ok());
        assert!(EventNotes::parse(&"é".repeat(1000)).is_ok());
        assert_eq!(EventNotes::parse(&"é".repeat(1001)), Err(InvalidEventNotes));
        assert_eq!(EventNotes::parse("bell\u{7}"), Err(InvalidEventNotes));
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
        }
    }
}
