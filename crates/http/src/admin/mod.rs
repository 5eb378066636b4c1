//! Platform administration routes under `/api/v2/admin`, guarded by `X-Admin-API-Key`.

pub mod audit_log;
pub mod compliance_audit;
pub mod database_status;
pub mod feature_flags;
pub mod sms_log;
mod sms_log_query;
pub mod tenants;
pub mod users;

use application::admin::AdminActor;

use crate::json_body::JsonBody;
use crate::{ApiState, errors::ApiError};

/// The parsed body of an admin call. A body refused before the use case — malformed JSON, a
/// wrong type, invalid fields — is written to the audit log (outcome `invalid`) before the
/// refusal is answered, so every call with a valid key leaves a trace.
///
/// # Errors
/// The refusal of the body (400, 415, 422), or 503 when the audit log cannot be written.
pub(crate) async fn audited_body<B, T>(
    state: &ApiState,
    actor: &AdminActor,
    action: &str,
    target: Option<String>,
    body: Result<JsonBody<B>, actix_web::Error>,
) -> Result<T, actix_web::Error>
where
    T: TryFrom<B, Error = ApiError>,
{
    let refusal = match body {
        Ok(body) => match T::try_from(body.into_inner()) {
            Ok(parsed) => return Ok(parsed),
            Err(error) => actix_web::Error::from(error),
        },
        Err(error) => error,
    };
    state
        .admin
        .record_invalid_request(actor, action, target)
        .await
        .map_err(ApiError::from)?;
    Err(refusal)
}
