use crate::text::trimmed_printable;

/// What an owner calls a plant: any printable text of 1-50 characters after trimming. Quotes,
/// semicolons, HTML and SQL-looking words are ordinary text, kept verbatim: queries are
/// parameterised, so nothing needs filtering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nickname(String);

/// Why a text is not a nickname.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 50 characters without control characters")]
pub struct InvalidNickname;

impl Nickname {
    /// Longest nickname, in characters.
    pub const MAX_CHARS: usize = 50;

    /// Trims `text` and checks its length and characters.
    ///
    /// # Errors
    /// [`InvalidNickname`] when it is blank, too long or holds control characters.
    pub fn parse(text: &str) -> Result<Self, InvalidNickname> {
        trimmed_printable(text, Self::MAX_CHARS)
            .map(|nickname| Self(nickname.to_owned()))
            .ok_or(InvalidNickname)
    }

    /// The nickname.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_and_fifty_characters_are_accepted_and_kept_trimmed() {
        assert_eq!(Nickname::parse(" F ").unwrap().as_str(), "F");
        let fifty = "🌿".repeat(50);
        assert_eq!(Nickname::parse(&fifty).unwrap().as_str(), fifty);
    }

    #[test]
    fn sql_and_html_looking_text_is_ordinary_text() {
        for text in [
            "Robert'); DROP TABLE plants;--",
            "<b>Fern</b>",
            "\"quoted\"; SELECT 1",
        ] {
            assert_eq!(Nickname::parse(text).unwrap().as_str(), text);
        }
    }

    #[test]
    fn blank_long_and_control_character_nicknames_are_refused() {
        for text in ["", "   ", "tab\there", "bell\u{7}", "line\nbreak", "null\0"] {
            assert_eq!(Nickname::parse(text), Err(InvalidNickname), "{text:?}");
        }
        assert_eq!(Nickname::parse(&"a".repeat(51)), Err(InvalidNickname));
    }
}
