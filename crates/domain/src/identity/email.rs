use std::fmt;

/// An email address, normalised (trimmed, lower-case) so that uniqueness per tenant is
/// case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why a text is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an email address such as ada@example.com (at most 254 characters)")]
pub struct InvalidEmail;

impl Email {
    /// Trims and lower-cases `text`, then checks its shape: one `@`, a non-empty local part, a
    /// domain with a dot and no empty label, no whitespace or control characters.
    ///
    /// # Errors
    /// [`InvalidEmail`] when the shape is wrong.
    pub fn parse(text: &str) -> Result<Self, InvalidEmail> {
        let normalised = text.trim().to_lowercase();
        let (local, domain) = normalised.split_once('@').ok_or(InvalidEmail)?;
        let well_formed = normalised.chars().count() <= 254
            && !local.is_empty()
            && local.chars().count() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty())
            && !normalised
                .chars()
                .any(|c| c.is_whitespace() || c.is_control());
        if well_formed {
            Ok(Self(normalised))
        } else {
            Err(InvalidEmail)
        }
    }

    /// The normalised address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    #[must_use]
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
        assert_eq!(email.local_part(), "ada.lovelace");
        assert_eq!(email.to_string(), "ada.lovelace@example.com");
    }

    #[test]
    fn malformed_emails_are_refused() {
        let too_long = format!("{}@example.com", "a".repeat(250));
        for text in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "ada@exa mple.com",
            "ada@example..com",
            "a\u{7}b@example.com",
            too_long.as_str(),
        ] {
            assert_eq!(Email::parse(text), Err(InvalidEmail), "{text:?}");
        }
    }
}
