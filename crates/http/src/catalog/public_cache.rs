//! Public, cacheable JSON answers: a strong ETag over the body, `Cache-Control: public,
//! max-age=300`, and 304 when the client already holds the same body.

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, HeaderValue},
};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::{errors::ApiError, hex::hex};

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

/// `document` as a cacheable 200, or a 304 without body when the client's copy is current.
///
/// # Errors
/// A 500 when the document cannot be serialised.
pub(crate) fn cacheable_json(
    req: &HttpRequest,
    document: &impl Serialize,
) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_vec(document).map_err(ApiError::internal)?;
    let etag = etag_of(&body);
    let etag_header = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    let not_modified = matches(req, &etag);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag_header))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL));
    Ok(if not_modified {
        response.finish()
    } else {
        response.content_type("application/json").body(body)
    })
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
}
