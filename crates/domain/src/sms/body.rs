/// The text of an SMS: 1-1600 characters (Twilio's limit for one message, split by the carrier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsBody(String);

/// Why a text cannot be sent as an SMS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an SMS must be 1 to 1600 characters")]
pub struct InvalidSmsBody;

impl SmsBody {
    /// Longest body, in characters.
    pub const MAX_CHARS: usize = 1600;

    /// Checks the length of `text`, kept as given.
    ///
    /// # Errors
    /// [`InvalidSmsBody`] when it is empty or longer than 1600 characters.
    pub fn parse(text: &str) -> Result<Self, InvalidSmsBody> {
        if (1..=Self::MAX_CHARS).contains(&text.chars().count()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidSmsBody)
        }
    }

    /// `text` cut to its first 1600 characters, for texts written by a model; `None` when empty.
    #[must_use]
    pub fn shortened(text: &str) -> Option<Self> {
        let cut: String = text.chars().take(Self::MAX_CHARS).collect();
        Self::parse(&cut).ok()
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_of_one_to_sixteen_hundred_characters_are_accepted() {
        assert!(SmsBody::parse("a").is_ok());
        assert!(SmsBody::parse(&"é".repeat(1600)).is_ok());
        assert_eq!(SmsBody::parse(""), Err(InvalidSmsBody));
        assert_eq!(SmsBody::parse(&"a".repeat(1601)), Err(InvalidSmsBody));
    }

    #[test]
    fn a_long_text_is_shortened_to_sixteen_hundred_characters() {
        let body = SmsBody::shortened(&"é".repeat(2000)).unwrap();
        assert_eq!(body.as_str().chars().count(), 1600);
        assert_eq!(SmsBody::shortened(""), None);
    }
}
