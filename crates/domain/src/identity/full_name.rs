use crate::text::trimmed_printable;

/// A person's name as they write it: 1-100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

/// Why a text is not a full name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 100 characters without control characters")]
pub struct InvalidFullName;

impl FullName {
    /// Trims `text` and checks its length and characters.
    ///
    /// # Errors
    /// [`InvalidFullName`] when it is empty, longer than 100 characters or holds control characters.
    pub fn parse(text: &str) -> Result<Self, InvalidFullName> {
        trimmed_printable(text, 100)
            .map(|name| Self(name.to_owned()))
            .ok_or(InvalidFullName)
    }

    /// The trimmed name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_kept_as_written() {
        assert_eq!(
            FullName::parse("  Zoë O'Brien-Núñez ").unwrap().as_str(),
            "Zoë O'Brien-Núñez"
        );
        assert!(FullName::parse(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn empty_long_or_control_names_are_refused() {
        for text in ["", "   ", "tab\tinside", "new\nline"] {
            assert_eq!(FullName::parse(text), Err(InvalidFullName), "{text:?}");
        }
        assert_eq!(FullName::parse(&"a".repeat(101)), Err(InvalidFullName));
    }
}
