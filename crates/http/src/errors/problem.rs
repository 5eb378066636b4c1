use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as a JSON pointer-like path (`email`, `items.0.name`) or `body`/`query`.
    #[schema(example = "email")]
    pub field: String,
    /// What is wrong with it.
    #[schema(example = "must be a valid email address")]
    pub message: String,
}

/// An RFC 9457 problem details document, sent as `application/problem+json`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://plant-texts.dev/problems/not-found",
    "title": "Not Found",
    "status": 404,
    "detail": "No resource at /api/v2/nothing-here.",
    "code": "ERR_ROUTE_001",
    "request_id": "0193a0a4-5b7e-7c1a-9d7e-2f0c1a2b3c4d",
    "errors": []
}))]
pub struct Problem {
    /// A URI naming the kind of problem; documented in docs/api-errors.md.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short, human-readable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// Stable machine-readable code `ERR_<AREA>_<NNN>`.
    pub code: String,
    /// The request's `X-Request-ID`, to quote when reporting a problem.
    pub request_id: String,
    /// The invalid fields, for validation problems; empty otherwise.
    pub errors: Vec<FieldError>,
}
