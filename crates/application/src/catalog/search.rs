/// A catalog search: 1-100 characters after trimming, matched case-insensitively against common
/// and scientific names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSearch(String);

/// Why a search text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be at most 100 characters")]
pub struct InvalidCatalogSearch;

impl CatalogSearch {
    /// The search for `text`; `None` when it is blank (no filter).
    ///
    /// # Errors
    /// [`InvalidCatalogSearch`] when it is longer than 100 characters.
    pub fn parse(text: &str) -> Result<Option<Self>, InvalidCatalogSearch> {
        let trimmed = text.trim();
        match trimmed.chars().count() {
            0 => Ok(None),
            1..=100 => Ok(Some(Self(trimmed.to_lowercase()))),
            _ => Err(InvalidCatalogSearch),
        }
    }

    /// The lower-cased text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_trimmed_and_lower_cased_and_blank_means_none() {
        assert_eq!(
            CatalogSearch::parse("  BaSil ").unwrap().unwrap().as_str(),
            "basil"
        );
        assert_eq!(CatalogSearch::parse("   ").unwrap(), None);
        assert!(CatalogSearch::parse(&"a".repeat(101)).is_err());
    }
}
