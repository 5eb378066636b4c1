use application::{
    identity::ports::{RefreshTokenRecord, RefreshTokenRepository},
    store::StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::identity::{TenantId, UserId};
use std::sync::Arc;

use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::persistence::{
    Database, entities::refresh_tokens, executor::Executor, store_error::store_error,
};

/// Refresh tokens (their hashes) in the relational database.
#[derive(Debug, Clone)]
pub struct SeaOrmRefreshTokenRepository {
    db: Executor,
}

impl SeaOrmRefreshTokenRepository {
    /// A repository over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self {
            db: Executor::Pool(db),
        }
    }

    /// The same repository inside an open transaction.
    pub(crate) const fn within(transaction: Arc<DatabaseTransaction>) -> Self {
        Self {
            db: Executor::Transaction(transaction),
        }
    }
}

fn to_domain(row: refresh_tokens::Model) -> RefreshTokenRecord {
    RefreshTokenRecord {
        id: row.id,
        tenant_id: TenantId::from_uuid(row.tenant_id),
        user_id: UserId::from_uuid(row.user_id),
        family_id: row.family_id,
        token_hash: row.token_hash,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        replaced_by: row.replaced_by,
        created_at: row.created_at,
    }
}

fn to_row(record: &RefreshTokenRecord) -> refresh_tokens::ActiveModel {
    refresh_tokens::ActiveModel {
        id: Set(record.id),
        tenant_id: Set(record.tenant_id.as_uuid()),
        user_id: Set(record.user_id.as_uuid()),
        family_id: Set(record.family_id),
        token_hash: Set(record.token_hash.clone()),
        expires_at: Set(record.expires_at),
        revoked_at: Set(record.revoked_at),
        replaced_by: Set(record.replaced_by),
        created_at: Set(record.created_at),
    }
}

#[async_trait]
impl RefreshTokenRepository for SeaOrmRefreshTokenRepository {
    #[tracing::instrument(name = "db.refresh_tokens.insert", skip_all)]
    async fn insert(&self, record: &RefreshTokenRecord) -> Result<(), StoreError> {
        refresh_tokens::Entity::insert(to_row(record))
            .exec(&self.db.conn())
            .await
            .map(|_| ())
            .map_err(store_error)
    }

    #[tracing::instrument(name = "db.refresh_tokens.find_by_hash", skip_all)]
    async fn find_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        Ok(refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
            .one(&self.db.conn())
            .await
            .map_err(store_error)?
            .map(to_domain))
    }

    #[tracing::instrument(name = "db.refresh_tokens.rotate", skip_all)]
    async fn rotate(
        &self,
        old: Uuid,
        new: &RefreshTokenRecord,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let txn = self.db.open_transaction().await.map_err(store_error)?;
        // The conditional update is the lock: of two concurrent rotations of one token, only
        // one finds it still live.
        let claimed = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Some(at)))
            .col_expr(
                refresh_tokens::Column::ReplacedBy,
                Expr::value(Some(new.id)),
            )
            .filter(refresh_tokens::Column::Id.eq(old))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&txn)
            .await
            .map_err(store_error)?
            .rows_affected;
        if claimed != 1 {
            txn.rollback().await.map_err(store_error)?;
            return Ok(false);
        }
        refresh_tokens::Entity::insert(to_row(new))
            .exec(&txn)
            .await
            .map_err(store_error)?;
        txn.commit().await.map_err(store_error)?;
        Ok(true)
    }

    #[tracing::instrument(name = "db.refresh_tokens.revoke_family", skip_all)]
    async fn revoke_family(
        &self,
        user: UserId,
        family: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Some(at)))
            .filter(refresh_tokens::Column::UserId.eq(user.as_uuid()))
            .filter(refresh_tokens::Column::FamilyId.eq(family))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&self.db.conn())
            .await
            .map(|_| ())
            .map_err(store_error)
    }

    #[tracing::instrument(name = "db.refresh_tokens.revoke_all", skip_all)]
    async fn revoke_all(&self, user: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Some(at)))
            .filter(refresh_tokens::Column::UserId.eq(user.as_uuid()))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&self.db.conn())
            .await
            .map(|_| ())
            .map_err(store_error)
    }

    #[tracing::instrument(name = "db.refresh_tokens.family_started_at", skip_all)]
    async fn family_started_at(&self, family: Uuid) -> Result<Option<DateTime<Utc>>, StoreError> {
        refresh_tokens::Entity::find()
            .select_only()
            .column_as(refresh_tokens::Column::CreatedAt.min(), "started_at")
            .filter(refresh_tokens::Column::FamilyId.eq(family))
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(&self.db.conn())
            .await
            .map(Option::flatten)
            .map_err(store_error)
    }

    #[tracing::instrument(name = "db.refresh_tokens.list_for_user", skip_all)]
    async fn list_for_user(&self, user: UserId) -> Result<Vec<RefreshTokenRecord>, StoreError> {
        Ok(refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::UserId.eq(user.as_uuid()))
            .order_by_asc(refresh_tokens::Column::Id)
            .all(&self.db.conn())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(to_domain)
            .collect())
    }
}
