//! The retention job's work in the relational database, and the ledger that lets one instance a
//! day run it.

use application::{
    ops::{RetentionReport, RetentionStore},
    store::StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::ops::retention::RetentionCutoffs;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait as _, Query},
};

use super::{
    Database,
    entities::{idempotency_keys, inbound_sms, job_runs, refresh_tokens, sms_log},
    store_error::{store_error, unique_violation},
};

/// Retention over the database.
#[derive(Debug, Clone)]
pub struct SeaOrmRetentionStore {
    db: Database,
}

impl SeaOrmRetentionStore {
    /// The store over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl RetentionStore for SeaOrmRetentionStore {
    #[tracing::instrument(name = "db.job_runs.claim", skip_all, fields(job))]
    async fn claim_run(
        &self,
        job: &str,
        day: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let inserted = job_runs::Entity::insert(job_runs::ActiveModel {
            job: Set(job.to_owned()),
            day: Set(day.format("%Y-%m-%d").to_string()),
            ran_at: Set(at),
        })
        .exec_without_returning(self.db.connection())
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(error) if unique_violation(&error).is_some() => Ok(false),
            Err(error) => Err(store_error(error)),
        }
    }

    #[tracing::instrument(name = "db.retention.purge", skip_all)]
    async fn purge(&self, cutoffs: &RetentionCutoffs) -> Result<RetentionReport, StoreError> {
        let db = self.db.connection();
        let idempotency_keys = idempotency_keys::Entity::delete_many()
            .filter(idempotency_keys::Column::CreatedAt.lt(cutoffs.idempotency_keys_before))
            .exec(db)
            .await
            .map_err(store_error)?
            .rows_affected;
        // Whole families only, once their last token ended: a family's first token dates its
        // login, which bounds the session's absolute lifetime.
        let ended_families = Query::select()
            .column(refresh_tokens::Column::FamilyId)
            .from(refresh_tokens::Entity)
            .group_by_col(refresh_tokens::Column::FamilyId)
            .and_having(
                Expr::col(refresh_tokens::Column::ExpiresAt)
                    .max()
                    .lt(cutoffs.refresh_tokens_ended_before),
            )
            .to_owned();
        let refresh_tokens = refresh_tokens::Entity::delete_many()
            .filter(refresh_tokens::Column::FamilyId.in_subquery(ended_families))
            .exec(db)
            .await
            .map_err(store_error)?
            .rows_affected;
        let inbound_sms = inbound_sms::Entity::delete_many()
            .filter(inbound_sms::Column::ReceivedAt.lt(cutoffs.inbound_sms_before))
            .exec(db)
            .await
            .map_err(store_error)?
            .rows_affected;
        // The entry stays (counts, delivery, costs); only the text goes.
        let sms_bodies = sms_log::Entity::update_many()
            .col_expr(sms_log::Column::Body, Expr::value(""))
            .filter(sms_log::Column::CreatedAt.lt(cutoffs.sms_bodies_before))
            .filter(sms_log::Column::Body.ne(""))
            .exec(db)
            .await
            .map_err(store_error)?
            .rows_affected;
        Ok(RetentionReport {
            idempotency_keys,
            refresh_tokens,
            inbound_sms,
            sms_bodies,
        })
    }
}
