//! `/api/v2/admin/sms-log`: every text the platform sent or tried to, for support and audits.

use actix_web::{HttpResponse, web};
use application::{
    admin::ports::{SmsLogEntry, SmsLogFilter},
    paging::PageRequest,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::sms_log_query::SmsLogQuery;
use crate::{
    ApiState,
    errors::{ApiError, Problem},
    identity::extractors::PlatformAdmin,
    paging::PageDocument,
};

/// One text of the SMS log; the number is masked, the text shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct SmsLogEntryDocument {
    /// Id.
    pub id: Uuid,
    /// The recipient's account, when a user.
    pub user_id: Option<Uuid>,
    /// The recipient, masked.
    #[schema(example = "+1415***2671")]
    pub to: String,
    /// The text.
    pub body: Option<String>,
    /// `pending`, `unknown`, `queued`, `sent`, `delivered`, `undelivered`, `failed` or `demo`.
    pub status: &'static str,
    /// Twilio's message SID.
    pub provider_message_id: Option<String>,
    /// Twilio's error code, or `cap` when a daily cap stopped it.
    pub error_code: Option<String>,
    /// Retries made.
    pub retry_count: u32,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
    /// When Twilio took it.
    pub sent_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it failed.
    pub failed_at: Option<DateTime<Utc>>,
}

impl From<SmsLogEntry> for SmsLogEntryDocument {
    fn from(entry: SmsLogEntry) -> Self {
        Self {
            id: entry.id,
            user_id: entry.user_id.map(|id| id.as_uuid()),
            to: entry.to_masked,
            body: entry.body,
            status: entry.status.as_str(),
            provider_message_id: entry.provider_message_id,
            error_code: entry.error_code,
            retry_count: entry.retry_count,
            created_at: entry.created_at,
            sent_at: entry.sent_at,
            delivered_at: entry.delivered_at,
            failed_at: entry.failed_at,
        }
    }
}

/// The SMS log, newest first.
#[utoipa::path(
    get,
    path = "/api/v2/admin/sms-log",
    tag = "admin",
    security(("admin_key" = [])),
    params(SmsLogQuery),
    responses(
        (status = 200, description = "One page of texts", body = PageDocument<SmsLogEntryDocument>),
        (status = 403, description = "Admin API disabled (ERR_ADMIN_001) or missing/wrong key (ERR_ADMIN_002)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad status, user_id, since, limit or cursor (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sms_log(
    state: web::Data<ApiState>,
    PlatformAdmin(actor): PlatformAdmin,
    query: web::Query<SmsLogQuery>,
) -> Result<HttpResponse, ApiError> {
    let (filter, page) = <(SmsLogFilter, PageRequest)>::try_from(query.into_inner())?;
    let entries = state.admin.sms_log(&actor, &filter, page).await?;
    Ok(HttpResponse::Ok().json(PageDocument::of(entries, SmsLogEntryDocument::from)))
}
