//! Turns a panic inside a handler into a 500 problem response instead of a dropped connection.

use std::panic::AssertUnwindSafe;

use actix_web::{
    Error,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};
use futures_util::FutureExt as _;

use crate::errors::{ApiError, EXPOSE_INTERNAL_ERRORS};

/// A handler panicked; carries the panic message for the logs.
#[derive(Debug, thiserror::Error)]
#[error("a handler panicked: {0}")]
pub struct HandlerPanicked(pub String);

/// Middleware: answers 500 with a problem body when the inner service panics. The panic message
/// is logged; it reaches the client only when `expose` (development).
///
/// # Errors
/// Passes through the inner service's errors.
pub async fn catch_panic(
    expose: bool,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let call =
        EXPOSE_INTERNAL_ERRORS.scope(expose, AssertUnwindSafe(next.call(req)).catch_unwind());
    match call.await {
        Ok(outcome) => outcome.map(ServiceResponse::map_into_boxed_body),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            Err(ApiError::Internal {
                source: Box::new(HandlerPanicked(message)),
                expose,
            }
            .into())
        }
    }
}
