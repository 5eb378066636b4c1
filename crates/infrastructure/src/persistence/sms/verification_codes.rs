//! Verification codes in the relational database: a SHA-256 of the code and its row id is kept,
//! never the code; tries are counted before the comparison, in one conditional update.

use application::{
    sms::ports::{CodeCheck, NewVerification, VerificationCodes},
    store::StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{identity::UserId, phone::PhoneNumber, sms::verification::VerificationCode};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait as _},
};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use crate::{
    persistence::{Database, entities::phone_verifications, store_error::store_error},
    security::hex,
};

/// The codes sent to verify numbers.
#[derive(Debug, Clone)]
pub struct SeaOrmVerificationCodes {
    db: Database,
}

impl SeaOrmVerificationCodes {
    /// Codes over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

/// The stored form of `code` for the row `id`.
fn code_hash(id: Uuid, code: &VerificationCode) -> String {
    let mut digest = Sha256::new();
    digest.update(id.as_bytes());
    digest.update(code.as_str().as_bytes());
    hex::encode(&digest.finalize())
}

#[async_trait]
impl VerificationCodes for SeaOrmVerificationCodes {
    fn generate(&self) -> VerificationCode {
        VerificationCode::from_number(rand::random_range(0..1_000_000))
    }

    #[tracing::instrument(name = "db.phone_verifications.sent_since", skip_all)]
    async fn sent_since(
        &self,
        user: UserId,
        phone: &PhoneNumber,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        phone_verifications::Entity::find()
            .select_only()
            .column(phone_verifications::Column::CreatedAt)
            .filter(phone_verifications::Column::CreatedAt.gte(since))
            .filter(
                Condition::any()
                    .add(phone_verifications::Column::UserId.eq(user.as_uuid()))
                    .add(phone_verifications::Column::Phone.eq(phone.as_str())),
            )
            .into_tuple::<DateTime<Utc>>()
            .all(self.db.connection())
            .await
            .map_err(store_error)
    }

    #[tracing::instrument(name = "db.phone_verifications.store", skip_all)]
    async fn store(&self, verification: &NewVerification) -> Result<(), StoreError> {
        phone_verifications::Entity::insert(phone_verifications::ActiveModel {
            id: Set(verification.id),
            user_id: Set(verification.user_id.as_uuid()),
            phone: Set(verification.phone.as_str().to_owned()),
            code_hash: Set(code_hash(verification.id, &verification.code)),
            attempts: Set(0),
            expires_at: Set(verification.expires_at),
            consumed_at: Set(None),
            created_at: Set(verification.created_at),
        })
        .exec_without_returning(self.db.connection())
        .await
        .map(|_| ())
        .map_err(store_error)
    }

    #[tracing::instrument(name = "db.phone_verifications.try_code", skip_all, fields(outcome))]
    async fn try_code(
        &self,
        user: UserId,
        phone: &PhoneNumber,
        code: &VerificationCode,
        now: DateTime<Utc>,
        tries: u32,
    ) -> Result<CodeCheck, StoreError> {
        let db = self.db.connection();
        let live = || {
            Condition::all()
                .add(phone_verifications::Column::UserId.eq(user.as_uuid()))
                .add(phone_verifications::Column::Phone.eq(phone.as_str()))
                .add(phone_verifications::Column::ConsumedAt.is_null())
                .add(phone_verifications::Column::ExpiresAt.gt(now))
                .add(
                    phone_verifications::Column::Attempts
                        .lt(i32::try_from(tries).unwrap_or(i32::MAX)),
                )
        };
        let Some(newest) = phone_verifications::Entity::find()
            .filter(live())
            .order_by_desc(phone_verifications::Column::CreatedAt)
            .one(db)
            .await
            .map_err(store_error)?
        else {
            return Ok(CodeCheck::NoLiveCode);
        };
        // The try counts before the comparison, and only while tries are left: concurrent
        // guesses cannot outnumber them.
        let counted = phone_verifications::Entity::update_many()
            .col_expr(
                phone_verifications::Column::Attempts,
                Expr::col(phone_verifications::Column::Attempts).add(1),
            )
            .filter(live())
            .filter(phone_verifications::Column::Id.eq(newest.id))
            .exec(db)
            .await
            .map_err(store_error)?
            .rows_affected;
        if counted != 1 {
            return Ok(CodeCheck::NoLiveCode);
        }
        let matches: bool = code_hash(newest.id, code)
            .as_bytes()
            .ct_eq(newest.code_hash.as_bytes())
            .into();
        if !matches {
            return Ok(CodeCheck::Wrong);
        }
        let used = phone_verifications::Entity::update_many()
            .col_expr(
                phone_verifications::Column::ConsumedAt,
                Expr::value(Some(now)),
            )
            .filter(phone_verifications::Column::Id.eq(newest.id))
            .filter(phone_verifications::Column::ConsumedAt.is_null())
            .exec(db)
            .await
            .map_err(store_error)?
            .rows_affected;
        Ok(if used == 1 {
            CodeCheck::Confirmed
        } else {
            CodeCheck::NoLiveCode
        })
    }
}
