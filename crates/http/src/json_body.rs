//! The JSON body extractor every route uses: actix's `Json` for the limits, the media type and
//! the syntax, then a decoding that names the field a value of the wrong type sits in.

use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::errors::{ApiError, FieldError};

/// A request body decoded from JSON into `T`.
///
/// Refusals: 413 past the body limit, 415 without `application/json`, 400 for what is not JSON
/// (all through the app's `JsonConfig`), and 422 naming the field for a document of the wrong
/// shape: `{"width": "x"}` names `width`, a missing or unknown field names itself, a nested one
/// its path (`changes[0].enabled`). Only a body that is not an object at all is named `body`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    /// The decoded body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Read twice: once as raw JSON, which checks the syntax alone (a number like 1e400 in a
        // field nobody reads is valid JSON), then into `T` with the path of each value tracked,
        // which serde_json's own error does not give (it only knows a line and a column).
        let document = web::Json::<Box<RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let document = document.await?.into_inner();
            decode(document.get())
                .map(JsonBody)
                .map_err(|problem| ApiError::Validation(vec![problem]).into())
        })
    }
}

/// `T` from `text`, syntactically valid JSON, or the problem naming the field at fault.
fn decode<T: DeserializeOwned>(text: &str) -> Result<T, FieldError> {
    if !text.trim_start().starts_with('{') {
        return Err(FieldError {
            field: "body".to_owned(),
            message: "must be a JSON object".to_owned(),
        });
    }
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text))
        .map_err(|error| naming_the_field(&error))
}

/// The problem of a document that does not decode, under the path of the field at fault.
fn naming_the_field(error: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let inner = error.inner();
    // Without serde_json's "at line 1 column 15": the field's name says where.
    let message = ToString::to_string(inner)
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_owned();
    let path = error.path().to_string();
    let at = (path != ".").then_some(path);
    // serde reports a missing field at the object that should hold it, an unknown one at the
    // field itself.
    let field = match (at, missing_field(&message)) {
        (Some(parent), Some(name)) => format!("{parent}.{name}"),
        (Some(path), None) => path,
        (None, Some(name)) => name.to_owned(),
        (None, None) => "body".to_owned(),
    };
    FieldError { field, message }
}

/// `name` in serde's "missing field `name`".
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split_once('`').map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only decoded")]
    struct Garden {
        name: String,
        width: Option<i64>,
        beds: Option<Vec<Bed>>,
    }

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "only decoded")]
    struct Bed {
        depth: u8,
    }

    fn field_of(document: serde_json::Value) -> String {
        decode::<Garden>(&document.to_string()).unwrap_err().field
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_field() {
        assert_eq!(
            field_of(serde_json::json!({"name": "Plot", "width": "x"})),
            "width"
        );
    }

    #[test]
    fn a_missing_or_unknown_field_names_itself() {
        assert_eq!(field_of(serde_json::json!({"width": 2})), "name");
        assert_eq!(
            field_of(serde_json::json!({"name": "Plot", "colour": 1})),
            "colour"
        );
    }

    #[test]
    fn a_nested_field_is_named_by_its_path() {
        let document =
            serde_json::json!({"name": "Plot", "beds": [{"depth": 1}, {"depth": "deep"}]});
        assert_eq!(field_of(document), "beds[1].depth");
        let document = serde_json::json!({"name": "Plot", "beds": [{}]});
        assert_eq!(field_of(document), "beds[0].depth");
    }

    #[test]
    fn the_message_says_what_is_wrong_without_a_line_and_column() {
        let problem = decode::<Garden>(r#"{"name": "Plot", "width": "x"}"#).unwrap_err();
        assert_eq!(problem.message, "invalid type: string \"x\", expected i64");
    }

    #[test]
    fn a_value_nobody_reads_is_not_judged() {
        let garden = decode::<Bed>(r#"{"depth": 3, "pad": 1e400}"#);
        assert!(garden.is_ok(), "{garden:?}");
    }

    #[test]
    fn a_body_that_is_not_an_object_is_named_body() {
        assert_eq!(field_of(serde_json::json!([1, 2])), "body");
    }
}
