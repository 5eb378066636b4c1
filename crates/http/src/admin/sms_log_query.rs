//! The query of `/api/v2/admin/sms-log`: filters and page, parsed at once.

use application::{admin::ports::SmsLogFilter, paging::PageRequest};
use chrono::DateTime;
use domain::{identity::UserId, sms::SmsStatus};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::{errors::ApiError, fields::FieldErrors, paging::PageQuery};

/// The filters and page of the SMS log.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SmsLogQuery {
    /// Only entries with this status (`pending`, `unknown`, `queued`, `sent`, `delivered`,
    /// `undelivered`, `failed`, `demo`).
    pub status: Option<String>,
    /// Only texts to this account.
    pub user_id: Option<String>,
    /// Only entries made at or after this RFC 3339 moment.
    pub since: Option<String>,
    /// Items per page, 1-100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl TryFrom<SmsLogQuery> for (SmsLogFilter, PageRequest) {
    type Error = ApiError;

    fn try_from(query: SmsLogQuery) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let status = match query.status.as_deref() {
            None => Some(None),
            Some(text) => text
                .parse::<SmsStatus>()
                .map(Some)
                .map_err(|error| errors.add("status", error))
                .ok(),
        };
        let user_id = match query.user_id.as_deref() {
            None => Some(None),
            Some(text) => text
                .parse::<Uuid>()
                .map(|id| Some(UserId::from_uuid(id)))
                .map_err(|_| errors.add("user_id", "must be a user id (UUID)"))
                .ok(),
        };
        let since = match query.since.as_deref() {
            None => Some(None),
            Some(text) => DateTime::parse_from_rfc3339(text)
                .map(|at| Some(at.to_utc()))
                .map_err(|_| errors.add("since", "must be an RFC 3339 time"))
                .ok(),
        };
        let page = PageQuery {
            limit: query.limit,
            cursor: query.cursor,
        }
        .parse(&mut errors);
        let parsed = (|| {
            Some((
                SmsLogFilter {
                    status: status?,
                    user_id: user_id?,
                    since: since?,
                },
                page?,
            ))
        })();
        errors.finish(parsed)
    }
}
