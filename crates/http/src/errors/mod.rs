//! The one place where errors become HTTP responses: RFC 9457 problem details.

mod api_error;
mod from_application;
mod problem;
mod refusal;

pub use api_error::ApiError;
pub(crate) use api_error::EXPOSE_INTERNAL_ERRORS;
pub use problem::{FieldError, Problem};
pub use refusal::Refusal;
