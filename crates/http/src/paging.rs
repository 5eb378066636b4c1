//! `?limit=&cursor=` for every list, and the `{"items": [...], "next_cursor": ...}` envelope.

use application::paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{errors::ApiError, fields::FieldErrors};

/// Pagination parameters of a list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1-100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page asked for, recording a bad `limit` or `cursor` in `errors`, so that a query
    /// with more parameters can report all its problems at once.
    pub(crate) fn parse(self, errors: &mut FieldErrors) -> Option<PageRequest> {
        // Read as text, so that `?limit=abc` is named like `?limit=0` rather than failing the
        // whole query string.
        let limit = match self.limit.as_deref() {
            None => Some(DEFAULT_PAGE_SIZE),
            Some(limit) => limit
                .parse::<u64>()
                .ok()
                .filter(|limit| (1..=MAX_PAGE_SIZE).contains(limit)),
        };
        if limit.is_none() {
            errors.add("limit", format!("must be between 1 and {MAX_PAGE_SIZE}"));
        }
        let after = match self.cursor.as_deref() {
            None => Some(None),
            Some(cursor) => decode_cursor(cursor).map(Some),
        };
        if after.is_none() {
            errors.add("cursor", "is not a cursor returned by this list");
        }
        Some(PageRequest {
            limit: limit?,
            after: after?,
        })
    }
}

impl TryFrom<PageQuery> for PageRequest {
    type Error = ApiError;

    fn try_from(query: PageQuery) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let page = query.parse(&mut errors);
        errors.finish(page)
    }
}

fn encode_cursor(after: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(after.as_bytes())
}

fn decode_cursor(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageDocument<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> PageDocument<T> {
    /// The document of `page`, each item rendered by `render`.
    pub fn of<S>(page: Page<S>, render: impl Fn(S) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(render).collect(),
            next_cursor: page.next_after.map(encode_cursor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Some(id));
    }

    #[test]
    fn limits_outside_one_to_a_hundred_and_foreign_cursors_are_refused() {
        for query in [
            PageQuery {
                limit: Some("0".into()),
                cursor: None,
            },
            PageQuery {
                limit: Some("101".into()),
                cursor: None,
            },
            PageQuery {
                limit: None,
                cursor: Some("not-ours!".into()),
            },
            PageQuery {
                limit: Some("abc".into()),
                cursor: None,
            },
        ] {
            assert!(PageRequest::try_from(query).is_err());
        }
        assert_eq!(
            PageRequest::try_from(PageQuery::default()).unwrap(),
            PageRequest {
                limit: 20,
                after: None
            }
        );
    }
}
