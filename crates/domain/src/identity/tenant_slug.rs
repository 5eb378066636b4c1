use std::fmt;

/// The short name of a tenant in URLs and requests: `[a-z0-9-]{3,40}`. Slugs are checked, not
/// normalised: upper case is refused rather than lowered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantSlug(String);

/// Why a text is not a tenant slug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 3 to 40 characters of lower-case letters, digits and hyphens")]
pub struct InvalidTenantSlug;

impl TenantSlug {
    /// Checks `text` against `[a-z0-9-]{3,40}`.
    ///
    /// # Errors
    /// [`InvalidTenantSlug`] otherwise.
    pub fn parse(text: &str) -> Result<Self, InvalidTenantSlug> {
        let well_formed = (3..=40).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidTenantSlug)
        }
    }

    /// The slug.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_slugs_are_accepted() {
        for text in ["demo", "abc", "green-thumbs-2", &"a".repeat(40)] {
            assert_eq!(TenantSlug::parse(text).unwrap().as_str(), text);
        }
    }

    #[test]
    fn malformed_slugs_are_refused_not_normalised() {
        for text in [
            "ab",
            "Demo",
            "demo club",
            "demo_club",
            "dé-mo",
            &"a".repeat(41),
        ] {
            assert_eq!(TenantSlug::parse(text), Err(InvalidTenantSlug), "{text:?}");
        }
    }
}
