//! Phone numbers in E.164 form, and the masked form that is safe to log.

use std::fmt;

/// A phone number in E.164 form (`+` then 2 to 15 digits, the first not 0).
///
/// Its `Debug` and `Display` show the masked form, so a number never reaches a log whole.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

/// Why a text is not an E.164 phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an E.164 number such as +14155552671 (a plus sign, then 2 to 15 digits)")]
pub struct InvalidPhoneNumber;

impl PhoneNumber {
    /// Parses an E.164 number. Numbers are checked, not normalised: spaces are refused.
    ///
    /// # Errors
    /// [`InvalidPhoneNumber`] when the text is not `^\+[1-9]\d{1,14}$`.
    pub fn parse(text: &str) -> Result<Self, InvalidPhoneNumber> {
        let digits = text.strip_prefix('+').ok_or(InvalidPhoneNumber)?;
        let well_formed = (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidPhoneNumber)
        }
    }

    /// The full number, for the SMS provider and the database only.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with its middle digits hidden (`+1415***2671`), safe for logs.
    #[must_use]
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Masks any phone-like text for logging: keeps the first five and the last four characters
/// when the text is long enough, else hides everything but the first character.
#[must_use]
pub fn mask_phone(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() >= 10 {
        let head: String = chars[..5].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}***{tail}")
    } else {
        let head: String = chars.iter().take(1).collect();
        format!("{head}***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_number_is_accepted_and_logged_masked() {
        let phone = PhoneNumber::parse("+14155552671").unwrap();
        assert_eq!(phone.as_str(), "+14155552671");
        assert_eq!(phone.masked(), "+1415***2671");
        assert_eq!(format!("{phone}"), "+1415***2671");
        assert_eq!(format!("{phone:?}"), "PhoneNumber(+1415***2671)");
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for text in [
            "",
            "+",
            "+1",
            "14155552671",
            "+0123456",
            "+1 415 555 2671",
            "+1415555267123456",
            "+1415abc",
        ] {
            assert_eq!(PhoneNumber::parse(text), Err(InvalidPhoneNumber), "{text}");
        }
    }

    #[test]
    fn the_shortest_and_longest_numbers_are_accepted() {
        assert!(PhoneNumber::parse("+12").is_ok());
        assert!(PhoneNumber::parse("+123456789012345").is_ok());
    }

    #[test]
    fn short_texts_are_masked_almost_entirely() {
        assert_eq!(mask_phone("+1234"), "+***");
        assert_eq!(mask_phone(""), "***");
    }
}
