//! `Idempotency-Key` on the create endpoints: the first response is kept (per user and key, with
//! a hash of the request) and replayed byte for byte to retries; the same key with another body
//! is 422, and while the first request still runs, 409.

use actix_web::{
    Error, HttpMessage as _, HttpResponse, ResponseError as _,
    body::{BoxBody, MessageBody, to_bytes},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        StatusCode,
        header::{self, HeaderName, HeaderValue},
    },
    middleware::Next,
};
use application::{
    idempotency::{Idempotency, IdempotencyKey, KeyClaim, StoredResponse},
    identity::Identity,
};
use domain::identity::UserId;
use sha2::{Digest as _, Sha256};

use std::rc::Rc;

use crate::{
    body::peek_body,
    errors::{ApiError, Refusal},
    hex::hex,
    identity::extractors::{AuthenticatedRequest, bearer_token},
    route_table::{self, Resolution},
};

/// The request header.
const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Marks a replayed response.
const REPLAYED: &str = "idempotent-replayed";
/// Response headers not kept with the body: the framing, which the replay computes again.
/// Everything else the handler answered is replayed; the outer middleware adds the request's
/// own headers (request id, rate limits, security headers, `Cache-Control: no-store`) to both.
const FRAMING_HEADERS: [HeaderName; 3] = [
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::CONNECTION,
];

/// Whether the request goes to a route that takes an `Idempotency-Key`, as the route table
/// says for the route the router will pick.
fn takes_idempotency_key(req: &ServiceRequest) -> bool {
    matches!(route_table::route_of(req), Resolution::Route(route) if route.idempotent)
}

/// What idempotent replay needs: the stored answers, and the identity use case to know whose
/// key it is.
#[derive(Debug, Clone)]
pub struct Replays {
    /// Claims and stored answers.
    pub idempotency: Idempotency,
    /// Authenticates the caller.
    pub identity: Identity,
}

/// Middleware: runs a create request with an `Idempotency-Key` at most once per user and key.
/// Requests without the header, without a valid token, or to other endpoints pass untouched.
///
/// # Errors
/// Passes inner errors on.
pub async fn replay_idempotent(
    replays: Rc<Replays>,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let applies = req.headers().contains_key(IDEMPOTENCY_KEY) && takes_idempotency_key(&req);
    if !applies {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let key = req
        .headers()
        .get(IDEMPOTENCY_KEY)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| IdempotencyKey::parse(value).ok());
    let Some(key) = key else {
        let error = ApiError::invalid_field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        );
        return Ok(req.error_response(error).map_into_boxed_body());
    };
    let Some(user) = caller(&req, &replays).await else {
        // Not authenticated: the handler answers 401.
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let body = match peek_body(&mut req).await {
        Ok(body) => body,
        Err(error) => return Ok(req.error_response(error).map_into_boxed_body()),
    };
    let request_hash = hash(req.match_info().as_str(), &body);

    let claim = match replays.idempotency.claim(user, &key, &request_hash).await {
        Ok(claim) => claim,
        Err(error) => {
            return Ok(req
                .error_response(ApiError::from(error))
                .map_into_boxed_body());
        }
    };
    match claim {
        KeyClaim::InProgress => Ok(req
            .error_response(ApiError::from(Refusal::IdempotencyInProgress))
            .map_into_boxed_body()),
        KeyClaim::Mismatch => Ok(req
            .error_response(ApiError::from(Refusal::IdempotencyKeyReused))
            .map_into_boxed_body()),
        KeyClaim::Completed(stored) => {
            let (request, _) = req.into_parts();
            Ok(ServiceResponse::new(request, replay(&stored)))
        }
        KeyClaim::Claimed => {
            let claim = HeldClaim {
                idempotency: replays.idempotency.clone(),
                user,
                key: Some(key),
            };
            let outcome = next.call(req).await;
            let response = match outcome {
                Ok(response) if !response.status().is_server_error() => response,
                other => {
                    // Failed: the next retry runs again.
                    claim.release().await;
                    return other.map(ServiceResponse::map_into_boxed_body);
                }
            };
            keep(claim, response).await
        }
    }
}

/// A claimed key whose request has not finished. Dropped unsettled — the request timed out or
/// the client went away while the handler ran — it releases the claim in the background, so
/// that a retry runs again instead of waiting for the claim to go stale.
struct HeldClaim {
    idempotency: Idempotency,
    user: UserId,
    /// `None` once settled.
    key: Option<IdempotencyKey>,
}

impl HeldClaim {
    /// Forgets the claim: the next request with the key runs. Held until the store answered,
    /// so that a request dropped meanwhile still releases it (from `Drop`).
    async fn release(mut self) {
        if let Some(key) = &self.key {
            if let Err(error) = self.idempotency.release(self.user, key).await {
                tracing::error!(error = %error, "idempotency claim not released");
            }
            self.key = None;
        }
    }

    /// Keeps `stored` as the answer for every retry, before the answer leaves, so that a retry
    /// right after it is replayed. Held until the store answered: a request dropped meanwhile
    /// releases the claim if the answer was not kept (a release never touches a kept answer).
    async fn complete(mut self, stored: &StoredResponse) {
        if let Some(key) = &self.key {
            if let Err(error) = self.idempotency.complete(self.user, key, stored).await {
                // The resource exists; a retry would now run again. Worth an alert, not a
                // failed answer.
                tracing::error!(error = %error, "idempotent response not kept");
            }
            self.key = None;
        }
    }
}

/// Runs `work` on the runtime, in the current request's span (its log lines keep the request
/// id); does nothing outside a runtime.
fn spawn_in_request_span(work: impl Future<Output = ()> + Send + 'static) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(tracing::Instrument::instrument(
            work,
            tracing::Span::current(),
        ));
    }
}

impl Drop for HeldClaim {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let idempotency = self.idempotency.clone();
        let user = self.user;
        spawn_in_request_span(async move {
            if let Err(error) = idempotency.release(user, &key).await {
                tracing::error!(error = %error, "abandoned idempotency claim not released");
            }
        });
    }
}

/// The caller's account, when the bearer token opens it; the principal is left in the request
/// so that the handler does not authenticate it a second time.
async fn caller(req: &ServiceRequest, replays: &Replays) -> Option<UserId> {
    let token = bearer_token(req.request())?;
    let principal = replays.identity.authenticate(&token).await.ok()?;
    req.extensions_mut().insert(principal);
    // A replay never reaches the handler's extractor, yet answers this caller alone.
    req.extensions_mut().insert(AuthenticatedRequest);
    Some(principal.user_id)
}

/// SHA-256 of the path and body: the same key with another request is a mismatch.
fn hash(path: &str, body: &[u8]) -> String {
    let mut digest = Sha256::new();
    digest.update(path.as_bytes());
    digest.update([0]);
    digest.update(body);
    hex(&digest.finalize())
}

/// Reads the response whole, keeps it, and passes it on unchanged.
async fn keep(
    claim: HeldClaim,
    response: ServiceResponse<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let Ok(body) = to_bytes(body).await else {
        claim.release().await;
        let error = ApiError::internal("the response body could not be read");
        return Ok(ServiceResponse::new(request, error.error_response()));
    };
    let stored = StoredResponse {
        status: head.status().as_u16(),
        headers: head
            .headers()
            .iter()
            .filter(|(name, _)| !FRAMING_HEADERS.contains(name))
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
        body: body.to_vec(),
    };
    claim.complete(&stored).await;
    Ok(ServiceResponse::new(
        request,
        head.set_body(BoxBody::new(body)),
    ))
}

fn replay(stored: &StoredResponse) -> HttpResponse {
    let mut response =
        HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
    for (name, value) in &stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            response.append_header((name, value));
        }
    }
    response.insert_header((HeaderName::from_static(REPLAYED), "true"));
    response.body(stored.body.clone())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use application::{
        idempotency::{Idempotency, IdempotencyKey, KeyClaim},
        testing::Fakes,
    };
    use domain::identity::UserId;

    use super::HeldClaim;

    #[tokio::test]
    async fn a_claim_abandoned_by_a_dropped_request_is_released_so_a_retry_runs() {
        let fakes = Fakes::new();
        let idempotency = Idempotency::new(
            Arc::new(fakes.idempotency.clone()),
            Arc::new(fakes.clock.clone()),
        );
        let user = UserId::from_uuid(uuid::Uuid::from_u128(7));
        let key = IdempotencyKey::parse("retry-me").unwrap();
        let claimed = idempotency.claim(user, &key, "hash").await.unwrap();
        assert!(matches!(claimed, KeyClaim::Claimed), "{claimed:?}");

        // The request's future is dropped mid-handler (timeout, client gone).
        drop(HeldClaim {
            idempotency: idempotency.clone(),
            user,
            key: Some(key.clone()),
        });
        // The release runs in the background: let it.
        tokio::task::yield_now().await;

        assert!(fakes.idempotency.is_empty());
        let retried = idempotency.claim(user, &key, "hash").await.unwrap();
        assert!(matches!(retried, KeyClaim::Claimed), "{retried:?}");
    }

    #[tokio::test]
    async fn a_completed_claim_is_kept_when_dropped() {
        let fakes = Fakes::new();
        let idempotency = Idempotency::new(
            Arc::new(fakes.idempotency.clone()),
            Arc::new(fakes.clock.clone()),
        );
        let user = UserId::from_uuid(uuid::Uuid::from_u128(7));
        let key = IdempotencyKey::parse("done").unwrap();
        idempotency.claim(user, &key, "hash").await.unwrap();
        let claim = HeldClaim {
            idempotency: idempotency.clone(),
            user,
            key: Some(key.clone()),
        };
        claim
            .complete(&application::idempotency::StoredResponse {
                status: 201,
                headers: Vec::new(),
                body: b"{}".to_vec(),
            })
            .await;
        tokio::task::yield_now().await;

        let replayed = idempotency.claim(user, &key, "hash").await.unwrap();
        assert!(matches!(replayed, KeyClaim::Completed(_)), "{replayed:?}");
    }
}
