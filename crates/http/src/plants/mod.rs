//! The caller's plants and conversations: `/api/v2/plants/*`.

pub mod chat;
pub mod documents;
pub mod routes;
