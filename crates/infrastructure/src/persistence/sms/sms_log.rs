use application::{
    admin::ports::{SmsLogEntry, SmsLogFilter, SmsLogQueries},
    paging::{Page, PageRequest},
    plants::Owner,
    sms::ports::{
        Lease, LeasedSms, PendingSms, SendOutcome, SentCounts, SmsLog, StatusChange, UnsettledSms,
    },
    store::StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    identity::{TenantId, UserId},
    phone::{PhoneNumber, mask_phone},
    plants::UserPlantId,
    sms::{
        RetrySchedule, SmsBody, SmsLogId, SmsPurpose, SmsStatus, outbox::SEND_LEASE,
        verification::redact_verification_code,
    },
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait as _, DbBackend, EntityTrait, PaginatorTrait as _,
    QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait as _, LockBehavior, LockType, Order, Query},
};

use crate::persistence::{
    Database,
    entities::sms_log,
    store_error::{corrupt, store_error},
    transaction::open_on_pool,
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

/// What a new pending row holds.
pub(super) struct NewRow<'a> {
    pub(super) id: uuid::Uuid,
    /// Tenant and user, when the recipient is a user.
    pub(super) account: Option<(uuid::Uuid, uuid::Uuid)>,
    pub(super) to: &'a str,
    pub(super) from: &'a str,
    /// Empty for a reminder whose text is written when it is sent.
    pub(super) body: &'a str,
    pub(super) purpose: SmsPurpose,
    pub(super) plant: Option<uuid::Uuid>,
    /// The hold of a caller that sends it at once; `None` leaves it to the workers.
    pub(super) lease: Option<Lease>,
    pub(super) at: DateTime<Utc>,
}

/// A new `pending` outbox row.
pub(super) fn pending_row(row: NewRow<'_>) -> sms_log::ActiveModel {
    sms_log::ActiveModel {
        id: Set(row.id),
        tenant_id: Set(row.account.map(|(tenant, _)| tenant)),
        user_id: Set(row.account.map(|(_, user)| user)),
        to_number: Set(row.to.to_owned()),
        from_number: Set(row.from.to_owned()),
        body: Set(row.body.to_owned()),
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
        created_at: Set(row.at),
        updated_at: Set(row.at),
        purpose: Set(row.purpose.as_str().to_owned()),
        plant_id: Set(row.plant),
        lease_token: Set(row.lease.map(|lease| lease.token)),
        lease_until: Set(row.lease.map(|lease| lease.until)),
        attempted_at: Set(None),
    }
}

/// The columns an outcome writes (a held row's hold ends with it).
fn outcome_columns(outcome: &SendOutcome) -> sms_log::ActiveModel {
    let mut row = match outcome {
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
            // A lookup or report that settles an unknown send may already know its fate.
            delivered_at: match status {
                SmsStatus::Delivered => Set(Some(*at)),
                _ => sea_orm::ActiveValue::NotSet,
            },
            next_retry_at: Set(None),
            updated_at: Set(*at),
            ..Default::default()
        },
        SendOutcome::Unknown { message, at } => sms_log::ActiveModel {
            status: Set(SmsStatus::Unknown.as_str().to_owned()),
            error_message: Set(Some(message.clone())),
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
    row.lease_token = Set(None);
    row.lease_until = Set(None);
    row
}

/// A pending row held by `lease`.
fn held(id: SmsLogId, lease: Lease) -> Condition {
    Condition::all()
        .add(sms_log::Column::Id.eq(id.as_uuid()))
        .add(sms_log::Column::Status.eq(SmsStatus::Pending.as_str()))
        .add(sms_log::Column::LeaseToken.eq(lease.token))
}

fn leased_sms(row: sms_log::Model, lease: Lease) -> Result<LeasedSms, StoreError> {
    Ok(LeasedSms {
        id: SmsLogId::from_uuid(row.id),
        owner: row
            .tenant_id
            .zip(row.user_id)
            .map(|(tenant_id, user_id)| Owner {
                tenant_id: TenantId::from_uuid(tenant_id),
                user_id: UserId::from_uuid(user_id),
            }),
        to: PhoneNumber::parse(&row.to_number).map_err(corrupt)?,
        purpose: row.purpose.parse().map_err(corrupt)?,
        plant: row.plant_id.map(UserPlantId::from_uuid),
        // A reminder's text is written when it is sent: empty until then.
        body: Some(row.body)
            .filter(|body| !body.is_empty())
            .map(|body| SmsBody::parse(&body))
            .transpose()
            .map_err(corrupt)?,
        attempted_at: row.attempted_at,
        created_at: row.created_at,
        retry_count: u32::try_from(row.retry_count).map_err(corrupt)?,
        lease,
    })
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
        // A text being sent, or whose outcome is unknown, may be out: it counts.
        let sent =
            || {
                sms_log::Entity::find().filter(
                    Condition::any()
                        .add(sms_log::Column::SentAt.gte(since))
                        .add(
                            Condition::all()
                                .add(sms_log::Column::Status.is_in([
                                    SmsStatus::Unknown.as_str(),
                                    SmsStatus::Pending.as_str(),
                                ]))
                                .add(sms_log::Column::AttemptedAt.gte(since)),
                        ),
                )
            };
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
        sms_log::Entity::insert(pending_row(NewRow {
            id: sms.id.as_uuid(),
            account: sms
                .owner
                .map(|owner| (owner.tenant_id.as_uuid(), owner.user_id.as_uuid())),
            to: sms.to.as_str(),
            from: &sms.from,
            body: sms.body.as_str(),
            purpose: sms.purpose,
            plant: None,
            lease: Some(sms.lease),
            at: sms.created_at,
        }))
        .exec_without_returning(self.db.connection())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(name = "db.sms_log.lease_pending", skip_all, fields(leased))]
    async fn lease_pending(
        &self,
        now: DateTime<Utc>,
        lease: Lease,
        limit: u64,
    ) -> Result<Vec<LeasedSms>, StoreError> {
        let connection = self.db.connection();
        let free = || {
            Condition::all()
                .add(sms_log::Column::Status.eq(SmsStatus::Pending.as_str()))
                .add(
                    Condition::any()
                        .add(sms_log::Column::LeaseUntil.is_null())
                        .add(sms_log::Column::LeaseUntil.lte(now)),
                )
        };
        let mut candidates = Query::select();
        candidates
            .column(sms_log::Column::Id)
            .from(sms_log::Entity)
            .cond_where(free())
            .order_by(sms_log::Column::CreatedAt, Order::Asc)
            .order_by(sms_log::Column::Id, Order::Asc)
            .limit(limit);
        if connection.get_database_backend() == DbBackend::Postgres {
            // Rows another worker is leasing right now are passed over, not waited for.
            candidates.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        // Chosen first, then updated: PostgreSQL may run a locking subquery of an UPDATE once
        // per row, and each run skips the rows the previous ones just took, so `IN (SELECT ...
        // LIMIT n)` could take more than n. The update checks the conditions again, so of two
        // workers that chose one row only the first takes it; on PostgreSQL the choice is made
        // under the rows' locks (in one transaction), on SQLite — where a read that turns into a
        // write inside a transaction can deadlock — each statement is atomic by itself.
        let lease_chosen = |chosen: Vec<uuid::Uuid>| {
            sms_log::Entity::update_many()
                .col_expr(sms_log::Column::LeaseToken, Expr::value(lease.token))
                .col_expr(sms_log::Column::LeaseUntil, Expr::value(lease.until))
                .filter(free())
                .filter(sms_log::Column::Id.is_in(chosen))
        };
        let ids = |rows: Vec<sea_orm::QueryResult>| {
            rows.iter()
                .map(|row| row.try_get_by_index::<uuid::Uuid>(0))
                .collect::<Result<Vec<_>, _>>()
                .map_err(store_error)
        };
        if connection.get_database_backend() == DbBackend::Postgres {
            let transaction = open_on_pool(connection).await.map_err(store_error)?;
            let chosen = ids(transaction
                .query_all(&candidates)
                .await
                .map_err(store_error)?)?;
            if !chosen.is_empty() {
                lease_chosen(chosen)
                    .exec(&transaction)
                    .await
                    .map_err(store_error)?;
            }
            transaction.commit().await.map_err(store_error)?;
        } else {
            let chosen = ids(connection
                .query_all(&candidates)
                .await
                .map_err(store_error)?)?;
            if !chosen.is_empty() {
                lease_chosen(chosen)
                    .exec(connection)
                    .await
                    .map_err(store_error)?;
            }
        }
        let leased = sms_log::Entity::find()
            .filter(sms_log::Column::LeaseToken.eq(lease.token))
            .filter(sms_log::Column::Status.eq(SmsStatus::Pending.as_str()))
            .order_by_asc(sms_log::Column::CreatedAt)
            .order_by_asc(sms_log::Column::Id)
            .all(connection)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|row| leased_sms(row, lease))
            .collect::<Result<Vec<_>, _>>()?;
        tracing::Span::current().record("leased", leased.len());
        Ok(leased)
    }

    #[tracing::instrument(name = "db.sms_log.write_body", skip_all)]
    async fn write_body(
        &self,
        id: SmsLogId,
        lease: Lease,
        body: &SmsBody,
    ) -> Result<bool, StoreError> {
        let result = sms_log::Entity::update_many()
            .col_expr(sms_log::Column::Body, Expr::value(body.as_str()))
            .filter(held(id, lease))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected == 1)
    }

    #[tracing::instrument(name = "db.sms_log.mark_attempt", skip_all)]
    async fn mark_attempt(
        &self,
        id: SmsLogId,
        lease: Lease,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // The hold is renewed for the call, so a slow batch does not lose the row mid-send.
        let result = sms_log::Entity::update_many()
            .col_expr(sms_log::Column::AttemptedAt, Expr::value(at))
            .col_expr(sms_log::Column::LeaseUntil, Expr::value(at + SEND_LEASE))
            .col_expr(sms_log::Column::UpdatedAt, Expr::value(at))
            .filter(held(id, lease))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected == 1)
    }

    #[tracing::instrument(name = "db.sms_log.record_outcome", skip_all)]
    async fn record_outcome(
        &self,
        id: SmsLogId,
        lease: Lease,
        outcome: &SendOutcome,
    ) -> Result<bool, StoreError> {
        let result = sms_log::Entity::update_many()
            .set(outcome_columns(outcome))
            .filter(held(id, lease))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected == 1)
    }

    #[tracing::instrument(name = "db.sms_log.requeue_due_retries", skip_all, fields(requeued))]
    async fn requeue_due_retries(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let max_retries = i32::try_from(RetrySchedule::MAX_RETRIES).map_err(corrupt)?;
        let result = sms_log::Entity::update_many()
            .col_expr(
                sms_log::Column::Status,
                Expr::value(SmsStatus::Pending.as_str()),
            )
            .col_expr(
                sms_log::Column::RetryCount,
                Expr::col(sms_log::Column::RetryCount).add(1),
            )
            .col_expr(sms_log::Column::LastRetryAt, Expr::value(now))
            .col_expr(
                sms_log::Column::NextRetryAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                sms_log::Column::LeaseToken,
                Expr::value(Option::<uuid::Uuid>::None),
            )
            .col_expr(
                sms_log::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                sms_log::Column::AttemptedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(sms_log::Column::UpdatedAt, Expr::value(now))
            .filter(sms_log::Column::Status.eq(SmsStatus::Failed.as_str()))
            .filter(sms_log::Column::NextRetryAt.lte(now))
            .filter(sms_log::Column::RetryCount.lt(max_retries))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        tracing::Span::current().record("requeued", result.rows_affected);
        Ok(result.rows_affected)
    }

    #[tracing::instrument(name = "db.sms_log.unsettled", skip_all)]
    async fn unsettled(
        &self,
        attempted_before: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<UnsettledSms>, StoreError> {
        sms_log::Entity::find()
            .filter(sms_log::Column::Status.eq(SmsStatus::Unknown.as_str()))
            .filter(sms_log::Column::AttemptedAt.lt(attempted_before))
            .filter(sms_log::Column::Body.ne(""))
            .order_by_asc(sms_log::Column::AttemptedAt)
            .limit(limit)
            .all(self.db.connection())
            .await
            .map_err(store_error)?
            .into_iter()
            .filter_map(|row| {
                let attempted_at = row.attempted_at?;
                Some(Ok(UnsettledSms {
                    id: SmsLogId::from_uuid(row.id),
                    to: match PhoneNumber::parse(&row.to_number).map_err(corrupt) {
                        Ok(to) => to,
                        Err(error) => return Some(Err(error)),
                    },
                    body: match SmsBody::parse(&row.body).map_err(corrupt) {
                        Ok(body) => body,
                        Err(error) => return Some(Err(error)),
                    },
                    attempted_at,
                    retry_count: u32::try_from(row.retry_count).unwrap_or(u32::MAX),
                }))
            })
            .collect()
    }

    #[tracing::instrument(name = "db.sms_log.settle", skip_all)]
    async fn settle(&self, id: SmsLogId, outcome: &SendOutcome) -> Result<bool, StoreError> {
        let result = sms_log::Entity::update_many()
            .set(outcome_columns(outcome))
            .filter(sms_log::Column::Id.eq(id.as_uuid()))
            .filter(sms_log::Column::Status.eq(SmsStatus::Unknown.as_str()))
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
