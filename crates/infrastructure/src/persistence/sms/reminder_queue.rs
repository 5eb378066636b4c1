use application::{sms::ports::ReminderQueue, store::StoreError};
use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{plants::next_watering, sms::SmsPurpose};
use sea_orm::{
    ColumnTrait, ConnectionTrait as _, DbBackend, EntityTrait, FromQueryResult, QueryFilter, Set,
    sea_query::{Expr, ExprTrait as _, LockBehavior, LockType, Order, Query},
};
use uuid::Uuid;

use super::sms_log::{NewRow, pending_row};
use crate::persistence::{
    Database,
    entities::{catalog_plants, sms_log, user_plants, users},
    store_error::{corrupt, store_error},
    transaction::open_on_pool,
};

/// The reminder schedule kept in `user_plants.next_reminder_at`.
#[derive(Debug, Clone)]
pub struct SeaOrmReminderQueue {
    db: Database,
}

impl SeaOrmReminderQueue {
    /// A queue over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

#[derive(Debug, FromQueryResult)]
struct DueRow {
    id: Uuid,
    tenant_id: Uuid,
    user_id: Uuid,
    phone: String,
    watering_interval_days: i32,
}

#[async_trait]
impl ReminderQueue for SeaOrmReminderQueue {
    #[tracing::instrument(name = "db.user_plants.claim_due", skip_all, fields(claimed))]
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u64,
        from: &str,
    ) -> Result<u64, StoreError> {
        let mut select = Query::select();
        select
            .column((user_plants::Entity, user_plants::Column::Id))
            .column((user_plants::Entity, user_plants::Column::TenantId))
            .column((user_plants::Entity, user_plants::Column::UserId))
            .column((users::Entity, users::Column::Phone))
            .column((
                catalog_plants::Entity,
                catalog_plants::Column::WateringIntervalDays,
            ))
            .from(user_plants::Entity)
            .inner_join(
                users::Entity,
                Expr::col((users::Entity, users::Column::Id))
                    .equals((user_plants::Entity, user_plants::Column::UserId)),
            )
            .inner_join(
                catalog_plants::Entity,
                Expr::col((catalog_plants::Entity, catalog_plants::Column::Id))
                    .equals((user_plants::Entity, user_plants::Column::CatalogPlantId)),
            )
            .and_where(
                Expr::col((user_plants::Entity, user_plants::Column::NextReminderAt)).lte(now),
            )
            .and_where(Expr::col((user_plants::Entity, user_plants::Column::IsActive)).eq(true))
            .and_where(Expr::col((users::Entity, users::Column::IsActive)).eq(true))
            .and_where(Expr::col((users::Entity, users::Column::SmsOptIn)).eq(true))
            .and_where(Expr::col((users::Entity, users::Column::Phone)).is_not_null())
            // Only a number whose holder confirmed it gets texts (SPEC §6.1).
            .and_where(Expr::col((users::Entity, users::Column::PhoneVerified)).eq(true))
            .order_by(
                (user_plants::Entity, user_plants::Column::NextReminderAt),
                Order::Asc,
            )
            .order_by((user_plants::Entity, user_plants::Column::Id), Order::Asc)
            .limit(limit);
        let connection = self.db.connection();
        if connection.get_database_backend() == DbBackend::Postgres {
            // Lock only the plants (not their owners or species, which other plants share), and
            // pass over plants another worker holds: each due plant goes to exactly one worker.
            select.lock_with_tables_behavior(
                LockType::Update,
                [user_plants::Entity],
                LockBehavior::SkipLocked,
            );
        }
        // On SQLite the transaction's write lock serialises claimers instead.
        let transaction = open_on_pool(connection).await.map_err(store_error)?;
        let rows = transaction
            .query_all(&select)
            .await
            .map_err(store_error)?
            .iter()
            .map(|row| DueRow::from_query_result(row, ""))
            .collect::<Result<Vec<_>, _>>()
            .map_err(store_error)?;
        // One update per watering interval rather than one per plant.
        let mut by_interval: BTreeMap<u32, Vec<Uuid>> = BTreeMap::new();
        let mut outbox = Vec::with_capacity(rows.len());
        for row in &rows {
            let interval = u32::try_from(row.watering_interval_days).map_err(corrupt)?;
            by_interval.entry(interval).or_default().push(row.id);
            outbox.push(pending_reminder(row, from, now));
        }
        for (interval, ids) in by_interval {
            user_plants::Entity::update_many()
                .set(user_plants::ActiveModel {
                    next_reminder_at: Set(Some(next_watering(now, interval))),
                    ..Default::default()
                })
                .filter(user_plants::Column::Id.is_in(ids))
                .exec(&transaction)
                .await
                .map_err(store_error)?;
        }
        let claimed = u64::try_from(outbox.len()).map_err(corrupt)?;
        if !outbox.is_empty() {
            sms_log::Entity::insert_many(outbox)
                .exec_without_returning(&transaction)
                .await
                .map_err(store_error)?;
        }
        transaction.commit().await.map_err(store_error)?;
        tracing::Span::current().record("claimed", claimed);
        Ok(claimed)
    }
}

/// The outbox row of a claimed reminder: pending, held by nobody, its text written when sent
/// (an empty body until then).
fn pending_reminder(row: &DueRow, from: &str, now: DateTime<Utc>) -> sms_log::ActiveModel {
    pending_row(NewRow {
        id: Uuid::now_v7(),
        account: Some((row.tenant_id, row.user_id)),
        to: &row.phone,
        from,
        body: "",
        purpose: SmsPurpose::Reminder,
        plant: Some(row.id),
        lease: None,
        at: now,
    })
}
