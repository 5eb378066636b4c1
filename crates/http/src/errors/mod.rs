//! The one place where errors become HTTP responses: RFC 9457 problem details.

mod api_error;
mod problem;

pub use api_error::ApiError;
pub use problem::{FieldError, Problem};
