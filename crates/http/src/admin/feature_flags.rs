//! `/api/v2/admin/feature-flags` (GET, PATCH) and `/api/v2/admin/feature-flags/reload` (POST).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use application::flags::{Flag, FlagValues};
use serde::Deserialize;
use utoipa::ToSchema;

use super::audited_body;
use crate::json_body::JsonBody;
use crate::{
    ApiState,
    errors::{ApiError, Problem},
    fields::FieldErrors,
    identity::extractors::PlatformAdmin,
};

/// Every flag and its value: `{"rule_engine": true, "compliance_enforcement": true,
/// "ai_chat": true, "sms_reminders": true}`.
pub type FlagMapDocument = BTreeMap<&'static str, bool>;

fn flag_map(values: &FlagValues) -> FlagMapDocument {
    values
        .iter()
        .map(|(flag, enabled)| (flag.as_str(), *enabled))
        .collect()
}

/// PATCH body: a partial map of flag names to booleans; `{}` changes nothing.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"compliance_enforcement": false}))]
#[serde(transparent)]
pub struct FlagChangesRequest(pub serde_json::Map<String, serde_json::Value>);

/// The changes of a PATCH, parsed: each name a known flag, each value a boolean.
#[derive(Debug)]
pub struct FlagChanges(FlagValues);

impl TryFrom<FlagChangesRequest> for FlagChanges {
    type Error = ApiError;

    fn try_from(request: FlagChangesRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let mut changes = FlagValues::new();
        for (name, value) in &request.0 {
            match (Flag::parse(name), value.as_bool()) {
                (None, _) => errors.add(
                    name,
                    "is not a feature flag (rule_engine, compliance_enforcement, ai_chat, sms_reminders)",
                ),
                (Some(_), None) => errors.add(name, "must be true or false"),
                (Some(flag), Some(enabled)) => {
                    changes.insert(flag, enabled);
                }
            }
        }
        errors.finish(Some(Self(changes)))
    }
}

/// Every feature flag and its value in this instance.
#[utoipa::path(
    get,
    path = "/api/v2/admin/feature-flags",
    tag = "admin",
    security(("admin_key" = [])),
    responses(
        (status = 200, description = "The flag map", body = BTreeMap<String, bool>, example = json!({"rule_engine": true, "compliance_enforcement": true, "ai_chat": true, "sms_reminders": true})),
        (status = 403, description = "Admin API disabled (ERR_ADMIN_001) or missing/wrong key (ERR_ADMIN_002)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_flags(
    state: web::Data<ApiState>,
    PlatformAdmin(actor): PlatformAdmin,
) -> Result<HttpResponse, ApiError> {
    let values = state.admin.feature_flags(&actor).await?;
    Ok(HttpResponse::Ok().json(flag_map(&values)))
}

/// Switch feature flags for every instance, without a restart.
///
/// This instance applies the change at once, the others within 5 seconds. Audited with the
/// values before and after.
#[utoipa::path(
    patch,
    path = "/api/v2/admin/feature-flags",
    tag = "admin",
    security(("admin_key" = [])),
    request_body = FlagChangesRequest,
    responses(
        (status = 200, description = "The whole flag map after the change", body = BTreeMap<String, bool>),
        (status = 403, description = "Admin API disabled (ERR_ADMIN_001) or missing/wrong key (ERR_ADMIN_002)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown flag or a value that is not a boolean (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_flags(
    state: web::Data<ApiState>,
    PlatformAdmin(actor): PlatformAdmin,
    body: Result<JsonBody<FlagChangesRequest>, actix_web::Error>,
) -> actix_web::Result<HttpResponse> {
    let FlagChanges(changes) = audited_body(
        &state,
        &actor,
        "feature_flags.update",
        Some("feature_flags".to_owned()),
        body,
    )
    .await?;
    let values = state
        .admin
        .change_feature_flags(&actor, &changes)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Ok().json(flag_map(&values)))
}

/// Re-read the stored flags into this instance (without waiting for its periodic refresh).
#[utoipa::path(
    post,
    path = "/api/v2/admin/feature-flags/reload",
    tag = "admin",
    security(("admin_key" = [])),
    responses(
        (status = 200, description = "The whole flag map as stored", body = BTreeMap<String, bool>),
        (status = 403, description = "Admin API disabled (ERR_ADMIN_001) or missing/wrong key (ERR_ADMIN_002)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reload_flags(
    state: web::Data<ApiState>,
    PlatformAdmin(actor): PlatformAdmin,
) -> Result<HttpResponse, ApiError> {
    let values = state.admin.reload_feature_flags(&actor).await?;
    Ok(HttpResponse::Ok().json(flag_map(&values)))
}
