use std::{error::Error as StdError, fmt::Write as _};

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};

use super::{FieldError, Problem, Refusal};
use crate::correlation;

tokio::task_local! {
    /// Whether the request being served may see internal error detail (development only).
    pub(crate) static EXPOSE_INTERNAL_ERRORS: bool;
}

/// Every way a request can fail, as the HTTP layer reports it.
///
/// Use-case errors are converted into it (one `From` per use-case error); it owns the status
/// mapping, the problem body and the one log line per failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A refusal the client can act on (401, 403, 404, 409).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The request body or query failed validation (422).
    #[error("the request is not valid")]
    Validation(Vec<FieldError>),
    /// The body is not well-formed JSON (400).
    #[error("the request body is not well-formed JSON: {0}")]
    MalformedJson(String),
    /// The body is not `application/json` (415).
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// The body is larger than the configured limit (413).
    #[error("the request body is larger than {limit_bytes} bytes")]
    PayloadTooLarge {
        /// The configured limit.
        limit_bytes: usize,
    },
    /// No route matches the path (404).
    #[error("no resource at {path}")]
    RouteNotFound {
        /// The requested path.
        path: String,
    },
    /// The route exists but not for this method (405).
    #[error("{method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed {
        /// The requested method.
        method: String,
        /// The allowed methods, comma-separated, for the `Allow` header.
        allow: &'static str,
    },
    /// An error status produced outside our handlers (by actix itself) without a problem body.
    #[error("the request could not be served")]
    Status(StatusCode),
    /// A dependency the request needs is down (503).
    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// Password hashing is at capacity (503 with `Retry-After: 1`).
    #[error("too many password checks are running; retry in a moment")]
    HashingBusy,
    /// The handler took longer than REQUEST_TIMEOUT_SECS (503).
    #[error("the request took longer than {after_ms} ms and was abandoned")]
    TimedOut {
        /// The limit.
        after_ms: u64,
    },
    /// A rate-limit policy refused the request (429).
    #[error("too many requests ({policy} policy); retry in {retry_after_secs} s")]
    RateLimited {
        /// The policy that refused.
        policy: &'static str,
        /// Seconds until a request may pass again, for `Retry-After`.
        retry_after_secs: u64,
    },
    /// Anything else (500). The source is logged, never sent outside development.
    #[error("an unexpected error occurred")]
    Internal {
        /// The cause.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
        /// Whether the cause may be sent in `detail` (development only).
        expose: bool,
    },
}

impl ApiError {
    /// An unexpected failure (500); its detail is shown only where the instance allows it.
    pub fn internal(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::Internal {
            source: source.into(),
            expose: EXPOSE_INTERNAL_ERRORS
                .try_with(|expose| *expose)
                .unwrap_or(false),
        }
    }

    /// One field of the request is not valid (422).
    #[must_use]
    pub fn invalid_field(field: &str, message: impl ToString) -> Self {
        Self::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.to_string(),
        }])
    }

    /// The stable code of the error, as listed in docs/api-errors.md.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Refused(refusal) => refusal.parts().1,
            Self::Validation(_) => "ERR_VALIDATION_001",
            Self::MalformedJson(_) => "ERR_REQUEST_001",
            Self::UnsupportedMediaType => "ERR_REQUEST_002",
            Self::PayloadTooLarge { .. } => "ERR_REQUEST_003",
            Self::RouteNotFound { .. } => "ERR_ROUTE_001",
            Self::MethodNotAllowed { .. } => "ERR_ROUTE_002",
            Self::Status(_) => "ERR_HTTP_001",
            Self::Unavailable(_) => "ERR_UNAVAILABLE_001",
            Self::TimedOut { .. } => "ERR_UNAVAILABLE_002",
            Self::HashingBusy => "ERR_UNAVAILABLE_003",
            Self::RateLimited { .. } => "ERR_RATE_001",
            Self::Internal { .. } => "ERR_INTERNAL_001",
        }
    }

    const fn slug(&self) -> &'static str {
        match self {
            Self::Refused(refusal) => refusal.parts().2,
            Self::Validation(_) => "validation",
            Self::MalformedJson(_) => "malformed-json",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::RouteNotFound { .. } => "not-found",
            Self::MethodNotAllowed { .. } => "method-not-allowed",
            Self::Status(_) => "http-error",
            Self::Unavailable(_) => "unavailable",
            Self::TimedOut { .. } => "timeout",
            Self::HashingBusy => "busy",
            Self::RateLimited { .. } => "rate-limited",
            Self::Internal { .. } => "internal",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Internal {
                source,
                expose: true,
            } => format!("{self}: {}", cause_chain(source.as_ref())),
            Self::Internal { .. } => {
                "An unexpected error occurred; quote the request id when reporting it.".to_owned()
            }
            Self::Validation(errors) => format!(
                "{} field(s) are not valid: {}.",
                errors.len(),
                errors
                    .iter()
                    .map(|e| e.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => {
                let mut text = other.to_string();
                if let Some(first) = text.get(..1) {
                    let upper = first.to_uppercase();
                    text.replace_range(..1, &upper);
                }
                text.push('.');
                text
            }
        }
    }

    /// The problem document for this error.
    #[must_use]
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            problem_type: format!("https://plant-texts.dev/problems/{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code().to_owned(),
            request_id: correlation::with_current(|ids| ids.request_id.clone()).unwrap_or_default(),
            errors: match self {
                Self::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }

    fn log(&self) {
        let status = self.status_code().as_u16();
        match self {
            Self::Internal { source, .. } | Self::Unavailable(source) => tracing::error!(
                code = self.code(),
                status,
                error.cause_chain = %cause_chain(source.as_ref()),
                "request failed"
            ),
            _ => tracing::info!(code = self.code(), status, error = %self, "request refused"),
        }
    }
}

fn cause_chain(error: &(dyn StdError + 'static)) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(chain, ": {cause}");
        source = cause.source();
    }
    chain
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Refused(refusal) => refusal.parts().0,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RouteNotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Status(status) => *status,
            Self::Unavailable(_) | Self::TimedOut { .. } | Self::HashingBusy => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        if let Self::MethodNotAllowed { allow, .. } = self {
            response.insert_header((header::ALLOW, *allow));
        }
        if let Self::RateLimited {
            retry_after_secs, ..
        } = self
        {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let Self::HashingBusy = self {
            response.insert_header((header::RETRY_AFTER, "1"));
        }
        if let Self::Refused(refusal) = self
            && let Some(challenge) = refusal.challenge()
        {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        response.json(self.problem())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner secret detail")]
    struct Inner;

    #[test]
    fn an_internal_error_hides_its_cause_unless_told_to_expose_it() {
        let hidden = ApiError::Internal {
            source: Box::new(Outer(Inner)),
            expose: false,
        }
        .problem();
        assert_eq!(hidden.status, 500);
        assert!(!hidden.detail.contains("secret"));
        let shown = ApiError::Internal {
            source: Box::new(Outer(Inner)),
            expose: true,
        }
        .problem();
        assert_eq!(
            shown.detail,
            "an unexpected error occurred: outer: inner secret detail"
        );
    }

    #[test]
    fn a_validation_problem_lists_every_field() {
        let problem = ApiError::Validation(vec![
            FieldError {
                field: "email".into(),
                message: "is required".into(),
            },
            FieldError {
                field: "password".into(),
                message: "is too short".into(),
            },
        ])
        .problem();
        assert_eq!(problem.code, "ERR_VALIDATION_001");
        assert_eq!(problem.errors.len(), 2);
        assert_eq!(problem.detail, "2 field(s) are not valid: email, password.");
    }

    #[test]
    fn codes_are_distinct() {
        let errors = [
            ApiError::Validation(vec![]),
            ApiError::MalformedJson(String::new()),
            ApiError::UnsupportedMediaType,
            ApiError::PayloadTooLarge { limit_bytes: 1 },
            ApiError::RouteNotFound {
                path: String::new(),
            },
            ApiError::MethodNotAllowed {
                method: String::new(),
                allow: "GET",
            },
            ApiError::Unavailable(Box::new(Inner)),
            ApiError::TimedOut { after_ms: 1 },
            ApiError::HashingBusy,
            ApiError::RateLimited {
                policy: "api",
                retry_after_secs: 1,
            },
            ApiError::Internal {
                source: Box::new(Inner),
                expose: false,
            },
        ];
        let codes: std::collections::HashSet<_> = errors.iter().map(ApiError::code).collect();
        assert_eq!(codes.len(), errors.len());
    }
}
