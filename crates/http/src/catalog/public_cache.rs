//! Public, cacheable JSON answers: a strong ETag over the body, `Cache-Control: public,
//! max-age=300`, and 304 when the client already holds the same body.

use std::{collections::HashMap, sync::RwLock};

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, HeaderValue},
    web::Bytes,
};
use application::catalog::ports::CatalogRevision;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::{errors::ApiError, hex::hex, state::ApiState};

/// Most rendered answers kept: the catalog's pages, species and personality pages of one
/// revision are far fewer; searches (`?q=`) are many, so a full cache starts over rather than
/// growing with whatever callers ask.
const MAX_RENDERED_ANSWERS: usize = 1024;

/// How long browsers and proxies may reuse a catalog answer without asking again.
const CACHE_CONTROL: &str = "public, max-age=300";

/// The ETag of `body`: the first 128 bits of its SHA-256, quoted.
fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex(&digest[..16]))
}

/// Whether `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2) or is `*`.
fn matches(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

/// A public answer ready to send: its body and the ETag over it.
#[derive(Debug, Clone)]
pub(crate) struct RenderedAnswer {
    body: Bytes,
    etag: HeaderValue,
}

impl RenderedAnswer {
    /// `document` serialised, with its ETag.
    ///
    /// # Errors
    /// A 500 when the document cannot be serialised.
    fn of(document: &impl Serialize) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(document).map_err(ApiError::internal)?;
        let etag = HeaderValue::from_str(&etag_of(&body)).map_err(ApiError::internal)?;
        Ok(Self {
            body: Bytes::from(body),
            etag,
        })
    }

    /// A cacheable 200, or a 304 without body when the client's copy is current.
    fn respond(self, req: &HttpRequest) -> HttpResponse {
        let not_modified = self.etag.to_str().is_ok_and(|etag| matches(req, etag));
        let mut response = if not_modified {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        response
            .insert_header((header::ETAG, self.etag))
            .insert_header((header::CACHE_CONTROL, CACHE_CONTROL));
        if not_modified {
            response.finish()
        } else {
            response.content_type("application/json").body(self.body)
        }
    }
}

/// The rendered public answers of one catalog revision, by request target (path and query):
/// a repeated read is neither serialised nor hashed again. A new revision empties it.
#[derive(Debug, Default)]
pub struct RenderedAnswers {
    held: RwLock<HeldAnswers>,
}

#[derive(Debug, Default)]
struct HeldAnswers {
    revision: Option<CatalogRevision>,
    by_target: HashMap<String, RenderedAnswer>,
}

impl RenderedAnswers {
    fn get(&self, revision: &CatalogRevision, target: &str) -> Option<RenderedAnswer> {
        let held = self.held.read().ok()?;
        if held.revision.as_ref() != Some(revision) {
            return None;
        }
        held.by_target.get(target).cloned()
    }

    fn put(&self, revision: CatalogRevision, target: String, answer: RenderedAnswer) {
        // A poisoned lock only costs the cache: answers are rendered again.
        let Ok(mut held) = self.held.write() else {
            return;
        };
        if held.revision.as_ref() != Some(&revision) || held.by_target.len() >= MAX_RENDERED_ANSWERS
        {
            held.by_target.clear();
            held.revision = Some(revision);
        }
        held.by_target.insert(target, answer);
    }
}

/// The public answer to `req`: rendered once per catalog revision by `render`, then served from
/// memory until the catalog changes. Errors (a 404, a 422) are never cached.
///
/// # Errors
/// What `render` fails with, or a store failure reading the revision.
pub(crate) async fn cacheable_json<D: Serialize>(
    req: &HttpRequest,
    state: &ApiState,
    render: impl Future<Output = Result<D, ApiError>>,
) -> Result<HttpResponse, ApiError> {
    // The revision is read before rendering: a page rendered from a newer snapshot is at worst
    // filed under the older revision, which no request asks for once the new one is known.
    let revision = state.catalog.revision().await?;
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), ToString::to_string);
    if let Some(answer) = state.rendered_answers.get(&revision, &target) {
        return Ok(answer.respond(req));
    }
    let answer = RenderedAnswer::of(&render.await?)?;
    state.rendered_answers.put(revision, target, answer.clone());
    Ok(answer.respond(req))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_etag_changes_with_the_body() {
        assert_eq!(etag_of(b"a"), etag_of(b"a"));
        assert_ne!(etag_of(b"a"), etag_of(b"b"));
        assert_eq!(etag_of(b"a").len(), 34);
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_a_star() {
        let etag = etag_of(b"x");
        for value in [
            etag.clone(),
            format!("\"other\", {etag}"),
            format!("W/{etag}"),
            "*".to_owned(),
        ] {
            let req = TestRequest::default()
                .insert_header((header::IF_NONE_MATCH, value.clone()))
                .to_http_request();
            assert!(matches(&req, &etag), "{value}");
        }
        let req = TestRequest::default()
            .insert_header((header::IF_NONE_MATCH, "\"other\""))
            .to_http_request();
        assert!(!matches(&req, &etag));
    }

    fn revision(value: &str) -> CatalogRevision {
        CatalogRevision(value.to_owned())
    }

    fn answer(body: &str) -> RenderedAnswer {
        RenderedAnswer::of(&body).unwrap()
    }

    #[test]
    fn an_answer_is_served_for_its_revision_and_target_only() {
        let answers = RenderedAnswers::default();
        answers.put(revision("1"), "/api/v2/catalog".to_owned(), answer("page"));
        let held = answers.get(&revision("1"), "/api/v2/catalog").unwrap();
        assert_eq!(held.body, Bytes::from_static(b"\"page\""));
        assert!(answers.get(&revision("2"), "/api/v2/catalog").is_none());
        assert!(
            answers
                .get(&revision("1"), "/api/v2/catalog?q=basil")
                .is_none()
        );
    }

    #[test]
    fn a_new_revision_empties_the_held_answers() {
        let answers = RenderedAnswers::default();
        answers.put(revision("1"), "/a".to_owned(), answer("old a"));
        answers.put(revision("1"), "/b".to_owned(), answer("old b"));
        answers.put(revision("2"), "/a".to_owned(), answer("new a"));
        assert!(answers.get(&revision("1"), "/b").is_none());
        assert!(
            answers.get(&revision("2"), "/b").is_none(),
            "nothing of revision 1 is kept"
        );
        assert_eq!(
            answers.get(&revision("2"), "/a").unwrap().body,
            Bytes::from_static(b"\"new a\"")
        );
    }

    #[test]
    fn a_flood_of_searches_never_holds_more_than_the_bound() {
        let answers = RenderedAnswers::default();
        for n in 0..(MAX_RENDERED_ANSWERS * 3 + 7) {
            answers.put(
                revision("1"),
                format!("/api/v2/catalog?q={n}"),
                answer("page"),
            );
            assert!(answers.held.read().unwrap().by_target.len() <= MAX_RENDERED_ANSWERS);
        }
    }

    #[test]
    fn a_held_answer_still_gets_a_304_for_its_etag() {
        let held = answer("page");
        let etag = held.etag.to_str().unwrap().to_owned();
        let req = TestRequest::default()
            .insert_header((header::IF_NONE_MATCH, etag.clone()))
            .to_http_request();
        let response = held.clone().respond(&req);
        assert_eq!(response.status(), actix_web::http::StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers().get(header::ETAG).unwrap(), etag.as_str());
        let fresh = held.respond(&TestRequest::default().to_http_request());
        assert_eq!(fresh.status(), actix_web::http::StatusCode::OK);
        assert_eq!(
            fresh.headers().get(header::CACHE_CONTROL).unwrap(),
            CACHE_CONTROL
        );
    }
}
