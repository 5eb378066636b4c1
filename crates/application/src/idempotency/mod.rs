//! Idempotency keys: a create request retried with the same `Idempotency-Key` gets the first
//! response again instead of creating twice.

mod ports;
mod service;

pub use ports::{IdempotencyStore, KeyClaim, StoredResponse};
pub use service::{Idempotency, IdempotencyKey, InvalidIdempotencyKey};
