//! Parsing request bodies field by field: every problem of a body is reported at once.

use serde::{Deserialize, Deserializer};

use crate::errors::{ApiError, FieldError};

/// Collects the problems of a request body, one per field.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub(crate) fn add(&mut self, field: &str, message: impl ToString) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.to_string(),
        });
    }

    /// The value of a required text field, or a problem when it is missing or blank.
    pub(crate) fn required<'a>(&mut self, field: &str, value: Option<&'a str>) -> Option<&'a str> {
        match value {
            Some(text) if !text.trim().is_empty() => Some(text),
            _ => {
                self.add(field, "is required");
                None
            }
        }
    }

    /// Parses a required field with `parse`, recording its error.
    pub(crate) fn parse<T, E: ToString>(
        &mut self,
        field: &str,
        value: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let text = self.required(field, value)?;
        parse(text).map_err(|error| self.add(field, error)).ok()
    }

    pub(crate) fn finish<T>(self, value: Option<T>) -> Result<T, ApiError> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(ApiError::Validation(self.0)),
        }
    }
}

/// Reads a present field as `Some`, so that `null` (`Some(None)`) differs from absent (`None`).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}
