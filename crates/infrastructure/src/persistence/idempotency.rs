use application::{
    idempotency::{IdempotencyStore, KeyClaim, StoredResponse},
    store::StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::identity::UserId;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, OnConflict},
};

use crate::persistence::{
    Database,
    entities::idempotency_keys,
    store_error::{corrupt, store_error},
};

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";

/// Idempotency records in the database, so every instance sees them and they survive restarts.
#[derive(Debug, Clone)]
pub struct SeaOrmIdempotencyStore {
    db: Database,
}

impl SeaOrmIdempotencyStore {
    /// A store over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

fn by_key(user: UserId, key: &str) -> Condition {
    Condition::all()
        .add(idempotency_keys::Column::UserId.eq(user.as_uuid()))
        .add(idempotency_keys::Column::Key.eq(key))
}

#[async_trait]
impl IdempotencyStore for SeaOrmIdempotencyStore {
    #[tracing::instrument(name = "db.idempotency_keys.claim", skip_all, fields(outcome))]
    async fn claim(
        &self,
        user: UserId,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<KeyClaim, StoreError> {
        let connection = self.db.connection();
        // The primary key (user, key) decides between concurrent requests.
        let inserted = idempotency_keys::Entity::insert(idempotency_keys::ActiveModel {
            user_id: Set(user.as_uuid()),
            key: Set(key.to_owned()),
            request_hash: Set(request_hash.to_owned()),
            status: Set(IN_PROGRESS.to_owned()),
            response_status: Set(None),
            response_headers: Set(None),
            response_body: Set(None),
            created_at: Set(now),
            expires_at: Set(expires_at),
        })
        .on_conflict(
            OnConflict::columns([
                idempotency_keys::Column::UserId,
                idempotency_keys::Column::Key,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(connection)
        .await
        .map_err(store_error)?;
        if inserted == 1 {
            tracing::Span::current().record("outcome", "claimed");
            return Ok(KeyClaim::Claimed);
        }
        // An expired record, or a claim whose request died, is taken over by one request.
        let taken = idempotency_keys::Entity::update_many()
            .col_expr(
                idempotency_keys::Column::RequestHash,
                Expr::value(request_hash),
            )
            .col_expr(idempotency_keys::Column::Status, Expr::value(IN_PROGRESS))
            .col_expr(
                idempotency_keys::Column::ResponseStatus,
                Expr::value(Option::<i32>::None),
            )
            .col_expr(
                idempotency_keys::Column::ResponseHeaders,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                idempotency_keys::Column::ResponseBody,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .col_expr(idempotency_keys::Column::CreatedAt, Expr::value(now))
            .col_expr(idempotency_keys::Column::ExpiresAt, Expr::value(expires_at))
            .filter(by_key(user, key))
            .filter(
                Condition::any()
                    .add(idempotency_keys::Column::ExpiresAt.lte(now))
                    .add(
                        Condition::all()
                            .add(idempotency_keys::Column::Status.eq(IN_PROGRESS))
                            .add(idempotency_keys::Column::CreatedAt.lte(stale_before)),
                    ),
            )
            .exec(connection)
            .await
            .map_err(store_error)?;
        if taken.rows_affected == 1 {
            tracing::Span::current().record("outcome", "taken_over");
            return Ok(KeyClaim::Claimed);
        }
        let Some(record) = idempotency_keys::Entity::find()
            .filter(by_key(user, key))
            .one(connection)
            .await
            .map_err(store_error)?
        else {
            // Released between the insert and the read: the first request failed just now.
            return Ok(KeyClaim::InProgress);
        };
        let claim = if record.status != COMPLETED {
            KeyClaim::InProgress
        } else if record.request_hash != request_hash {
            KeyClaim::Mismatch
        } else {
            KeyClaim::Completed(StoredResponse {
                status: record
                    .response_status
                    .and_then(|status| u16::try_from(status).ok())
                    .unwrap_or(200),
                headers: serde_json::from_str(record.response_headers.as_deref().unwrap_or("[]"))
                    .map_err(corrupt)?,
                body: record.response_body.unwrap_or_default(),
            })
        };
        tracing::Span::current().record(
            "outcome",
            match claim {
                KeyClaim::InProgress => "in_progress",
                KeyClaim::Mismatch => "mismatch",
                _ => "replay",
            },
        );
        Ok(claim)
    }

    #[tracing::instrument(name = "db.idempotency_keys.complete", skip_all)]
    async fn complete(
        &self,
        user: UserId,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        idempotency_keys::Entity::update_many()
            .set(idempotency_keys::ActiveModel {
                status: Set(COMPLETED.to_owned()),
                response_status: Set(Some(i32::from(response.status))),
                response_headers: Set(Some(
                    serde_json::to_string(&response.headers).map_err(corrupt)?,
                )),
                response_body: Set(Some(response.body.clone())),
                ..Default::default()
            })
            .filter(by_key(user, key))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(name = "db.idempotency_keys.release", skip_all)]
    async fn release(&self, user: UserId, key: &str) -> Result<(), StoreError> {
        idempotency_keys::Entity::delete_many()
            .filter(by_key(user, key))
            .filter(idempotency_keys::Column::Status.eq(IN_PROGRESS))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
