use application::{
    sms::ports::{InboundClaim, InboundSmsLog},
    store::StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::identity::UserId;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, OnConflict},
};

use crate::persistence::{Database, entities::inbound_sms, store_error::store_error};

/// How long an unanswered claim stays its request's: well past the request timeout.
const ABANDONED_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Inbound message ids already received, with their answers.
#[derive(Debug, Clone)]
pub struct SeaOrmInboundSmsLog {
    db: Database,
}

impl SeaOrmInboundSmsLog {
    /// A log over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl InboundSmsLog for SeaOrmInboundSmsLog {
    #[tracing::instrument(name = "db.inbound_sms.claim", skip_all, fields(first))]
    async fn claim(
        &self,
        message_sid: &str,
        sender: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<InboundClaim, StoreError> {
        // The primary key decides: of concurrent deliveries, exactly one inserts the row.
        let inserted = inbound_sms::Entity::insert(inbound_sms::ActiveModel {
            message_sid: Set(message_sid.to_owned()),
            user_id: Set(sender.map(|user| user.as_uuid())),
            reply: Set(None),
            received_at: Set(at),
        })
        .on_conflict(
            OnConflict::column(inbound_sms::Column::MessageSid)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(self.db.connection())
        .await
        .map_err(store_error)?;
        tracing::Span::current().record("first", inserted == 1);
        if inserted == 1 {
            return Ok(InboundClaim::First);
        }
        // A claim left without an answer this long belongs to a request that died (crash,
        // timeout): the provider's retry takes it over instead of being told "in progress"
        // for ever.
        let taken_over = inbound_sms::Entity::update_many()
            .col_expr(inbound_sms::Column::ReceivedAt, Expr::value(at))
            .col_expr(
                inbound_sms::Column::UserId,
                Expr::value(sender.map(|user| user.as_uuid())),
            )
            .filter(inbound_sms::Column::MessageSid.eq(message_sid))
            .filter(inbound_sms::Column::Reply.is_null())
            .filter(inbound_sms::Column::ReceivedAt.lt(at - ABANDONED_AFTER))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?
            .rows_affected;
        if taken_over == 1 {
            tracing::warn!("an abandoned inbound claim was taken over");
            return Ok(InboundClaim::First);
        }
        let earlier = inbound_sms::Entity::find_by_id(message_sid.to_owned())
            .one(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(match earlier.and_then(|row| row.reply) {
            Some(reply) => InboundClaim::Answered(reply),
            None => InboundClaim::InProgress,
        })
    }

    #[tracing::instrument(name = "db.inbound_sms.answered", skip_all)]
    async fn answered(&self, message_sid: &str, reply: &str) -> Result<(), StoreError> {
        inbound_sms::Entity::update_many()
            .set(inbound_sms::ActiveModel {
                reply: Set(Some(reply.to_owned())),
                ..Default::default()
            })
            .filter(inbound_sms::Column::MessageSid.eq(message_sid))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(name = "db.inbound_sms.release", skip_all)]
    async fn release(&self, message_sid: &str) -> Result<(), StoreError> {
        inbound_sms::Entity::delete_many()
            .filter(inbound_sms::Column::MessageSid.eq(message_sid))
            .filter(inbound_sms::Column::Reply.is_null())
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
