//! Reading a request body in middleware without taking it from the handler.

use actix_web::{
    Error,
    dev::{Payload, ServiceRequest},
    web,
};

/// The whole body of `req` (within the configured size limit), put back for the handler.
///
/// # Errors
/// The extraction error (oversized body, broken payload); the body is gone then and the caller
/// should answer with the error.
pub(crate) async fn peek_body(req: &mut ServiceRequest) -> Result<web::Bytes, Error> {
    let body = req.extract::<web::Bytes>().await?;
    req.set_payload(Payload::from(body.clone()));
    Ok(body)
}
