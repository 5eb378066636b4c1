use application::{
    admin::ports::{SmsLogEntry, SmsLogFilter, SmsLogQueries},
    paging::{Page, PageRequest},
    sms::ports::{PendingSms, RetryableSms, SendOutcome, SentCounts, SmsLog, StatusChange},
    store::StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    identity::UserId,
    phone::{PhoneNumber, mask_phone},
    sms::{RetrySchedule, SmsBody, SmsLogId, SmsStatus, verification::redact_verification_code},
};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait as _, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Expr,
};

use crate::persistence::{
    Database,
    entities::sms_log,
    store_error::{corrupt, store_error},
};

/// The SMS log table.
#[derive(Debug, Clone)]
pub struct SeaOrmSmsLog {
    db: Database,
}

impl SeaOrmSmsLog {
    /// A log over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SmsLog for SeaOrmSmsLog {
    #[tracing::instrument(name = "db.sms_log.sent_since", skip_all)]
    async fn sent_since(
        &self,
        account: Option<UserId>,
        to: &PhoneNumber,
        since: DateTime<Utc>,
    ) -> Result<SentCounts, StoreError> {
        let db = self.db.connection();
        let sent = || sms_log::Entity::find().filter(sms_log::Column::SentAt.gte(since));
        let to_account = match account {
            Some(account) => sent()
                .filter(sms_log::Column::UserId.eq(account.as_uuid()))
                .count(db)
                .await
                .map_err(store_error)?,
            None => 0,
        };
        let to_number = sent()
            .filter(sms_log::Column::ToNumber.eq(to.as_str()))
            .count(db)
            .await
            .map_err(store_error)?;
        let platform = sent().count(db).await.map_err(store_error)?;
        Ok(SentCounts {
            to_account,
            to_number,
            platform,
        })
    }

    #[tracing::instrument(name = "db.sms_log.record_pending", skip_all)]
    async fn record_pending(&self, sms: &PendingSms) -> Result<(), StoreError> {
        sms_log::Entity::insert(sms_log::ActiveModel {
            id: Set(sms.id.as_uuid()),
            tenant_id: Set(sms.owner.map(|owner| owner.tenant_id.as_uuid())),
            user_id: Set(sms.owner.map(|owner| owner.user_id.as_uuid())),
            to_number: Set(sms.to.as_str().to_owned()),
            from_number: Set(sms.from.clone()),
            body: Set(sms.body.as_str().to_owned()),
            status: Set(SmsStatus::Pending.as_str().to_owned()),
            provider_message_id: Set(None),
            error_code: Set(None),
            error_message: Set(None),
            retry_count: Set(0),
            last_retry_at: Set(None),
            sent_at: Set(None),
            delivered_at: Set(None),
            failed_at: Set(None),
            next_retry_at: Set(None),
            created_at: Set(sms.created_at),
            updated_at: Set(sms.created_at),
        })
        .exec_without_returning(self.db.connection())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(name = "db.sms_log.record_outcome", skip_all)]
    async fn record_outcome(&self, id: SmsLogId, outcome: &SendOutcome) -> Result<(), StoreError> {
        let row = match outcome {
            SendOutcome::Accepted {
                status,
                provider_message_id,
                at,
            } => sms_log::ActiveModel {
                status: Set(status.as_str().to_owned()),
                provider_message_id: Set(provider_message_id.clone()),
                error_code: Set(None),
                error_message: Set(None),
                sent_at: Set(Some(*at)),
                next_retry_at: Set(None),
                updated_at: Set(*at),
                ..Default::default()
            },
            SendOutcome::Failed {
                code,
                message,
                at,
                next_retry_at,
            } => sms_log::ActiveModel {
                status: Set(SmsStatus::Failed.as_str().to_owned()),
                error_code: Set(code.clone()),
                error_message: Set(Some(message.clone())),
                failed_at: Set(Some(*at)),
                next_retry_at: Set(*next_retry_at),
                updated_at: Set(*at),
                ..Default::default()
            },
        };
        sms_log::Entity::update_many()
            .set(row)
            .filter(sms_log::Column::Id.eq(id.as_uuid()))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(name = "db.sms_log.due_for_retry", skip_all)]
    async fn due_for_retry(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<RetryableSms>, StoreError> {
        let max_retries = i32::try_from(RetrySchedule::MAX_RETRIES).map_err(corrupt)?;
        sms_log::Entity::find()
            .filter(sms_log::Column::Status.eq(SmsStatus::Failed.as_str()))
            .filter(sms_log::Column::NextRetryAt.lte(now))
            .filter(sms_log::Column::RetryCount.lt(max_retries))
            .order_by_asc(sms_log::Column::NextRetryAt)
            .limit(limit)
            .all(self.db.connection())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|row| {
                Ok(RetryableSms {
                    id: SmsLogId::from_uuid(row.id),
                    account: row.user_id.map(UserId::from_uuid),
                    to: PhoneNumber::parse(&row.to_number).map_err(corrupt)?,
                    body: SmsBody::parse(&row.body).map_err(corrupt)?,
                    retry_count: u32::try_from(row.retry_count).map_err(corrupt)?,
                })
            })
            .collect()
    }

    #[tracing::instrument(name = "db.sms_log.claim_retry", skip_all)]
    async fn claim_retry(
        &self,
        id: SmsLogId,
        retry_count: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let retry_count = i32::try_from(retry_count).map_err(corrupt)?;
        let result = sms_log::Entity::update_many()
            .col_expr(
                sms_log::Column::Status,
                Expr::value(SmsStatus::Pending.as_str()),
            )
            .col_expr(sms_log::Column::RetryCount, Expr::value(retry_count + 1))
            .col_expr(sms_log::Column::LastRetryAt, Expr::value(now))
            .col_expr(
                sms_log::Column::NextRetryAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(sms_log::Column::UpdatedAt, Expr::value(now))
            .filter(sms_log::Column::Id.eq(id.as_uuid()))
            .filter(sms_log::Column::Status.eq(SmsStatus::Failed.as_str()))
            .filter(sms_log::Column::RetryCount.eq(retry_count))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected == 1)
    }

    #[tracing::instrument(name = "db.sms_log.find_by_provider_id", skip_all)]
    async fn find_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> Result<Option<(SmsLogId, SmsStatus)>, StoreError> {
        sms_log::Entity::find()
            .filter(sms_log::Column::ProviderMessageId.eq(provider_message_id))
            .one(self.db.connection())
            .await
            .map_err(store_error)?
            .map(|row| {
                Ok((
                    SmsLogId::from_uuid(row.id),
                    row.status.parse().map_err(corrupt)?,
                ))
            })
            .transpose()
    }

    #[tracing::instrument(name = "db.sms_log.change_status", skip_all, fields(to = change.to.as_str()))]
    async fn change_status(&self, id: SmsLogId, change: &StatusChange) -> Result<bool, StoreError> {
        let mut update = sms_log::Entity::update_many()
            .col_expr(sms_log::Column::Status, Expr::value(change.to.as_str()))
            .col_expr(sms_log::Column::UpdatedAt, Expr::value(change.at));
        match change.to {
            SmsStatus::Delivered => {
                update = update.col_expr(sms_log::Column::DeliveredAt, Expr::value(change.at));
            }
            SmsStatus::Undelivered | SmsStatus::Failed => {
                update = update
                    .col_expr(sms_log::Column::FailedAt, Expr::value(change.at))
                    .col_expr(
                        sms_log::Column::ErrorCode,
                        Expr::value(change.error_code.clone()),
                    );
            }
            _ => {}
        }
        let result = update
            .filter(sms_log::Column::Id.eq(id.as_uuid()))
            .filter(sms_log::Column::Status.eq(change.from.as_str()))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected == 1)
    }
}

#[async_trait]
impl SmsLogQueries for SeaOrmSmsLog {
    #[tracing::instrument(name = "db.sms_log.list", skip_all)]
    async fn list(
        &self,
        filter: &SmsLogFilter,
        page: PageRequest,
    ) -> Result<Page<SmsLogEntry>, StoreError> {
        let mut query = sms_log::Entity::find().order_by_desc(sms_log::Column::Id);
        if let Some(status) = filter.status {
            query = query.filter(sms_log::Column::Status.eq(status.as_str()));
        }
        if let Some(user) = filter.user_id {
            query = query.filter(sms_log::Column::UserId.eq(user.as_uuid()));
        }
        if let Some(since) = filter.since {
            query = query.filter(sms_log::Column::CreatedAt.gte(since));
        }
        if let Some(after) = page.after {
            query = query.filter(sms_log::Column::Id.lt(after));
        }
        let rows = query
            .limit(page.limit + 1)
            .all(self.db.connection())
            .await
            .map_err(store_error)?;
        let entries = rows
            .into_iter()
            .map(|row| {
                Ok(SmsLogEntry {
                    id: row.id,
                    user_id: row.user_id.map(UserId::from_uuid),
                    to_masked: mask_phone(&row.to_number),
                    // Emptied by the retention job after 90 days; a verification code is never
                    // shown (only its holder may read it).
                    body: Some(row.body)
                        .filter(|body| !body.is_empty())
                        .map(|body| redact_verification_code(&body)),
                    status: row.status.parse().map_err(corrupt)?,
                    provider_message_id: row.provider_message_id,
                    error_code: row.error_code,
                    retry_count: u32::try_from(row.retry_count).map_err(corrupt)?,
                    created_at: row.created_at,
                    sent_at: row.sent_at,
                    delivered_at: row.delivered_at,
                    failed_at: row.failed_at,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page::from_overfetched(entries, page.limit, |entry| {
            entry.id
        }))
    }
}
