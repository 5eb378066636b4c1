use application::{
    plants::Owner,
    sms::ports::{SmsAccount, SmsAccounts},
    store::StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    identity::{TenantId, UserId},
    phone::PhoneNumber,
    sms::Recipient,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::persistence::{
    Database,
    entities::users,
    store_error::{corrupt, store_error},
};

/// Accounts found by their phone number.
#[derive(Debug, Clone)]
pub struct SeaOrmSmsAccounts {
    db: Database,
}

impl SeaOrmSmsAccounts {
    /// Accounts over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SmsAccounts for SeaOrmSmsAccounts {
    #[tracing::instrument(name = "db.users.find_by_phone", skip_all, fields(found))]
    async fn find_by_phone(&self, phone: &PhoneNumber) -> Result<Option<SmsAccount>, StoreError> {
        let account = users::Entity::find()
            .filter(users::Column::Phone.eq(phone.as_str()))
            .filter(users::Column::IsActive.eq(true))
            // An unverified holder may not be the number's: its texts are not theirs to read.
            .filter(users::Column::PhoneVerified.eq(true))
            .one(self.db.connection())
            .await
            .map_err(store_error)?
            .map(|row| SmsAccount {
                owner: Owner {
                    tenant_id: TenantId::from_uuid(row.tenant_id),
                    user_id: UserId::from_uuid(row.id),
                },
                sms_opt_in: row.sms_opt_in,
            });
        tracing::Span::current().record("found", account.is_some());
        Ok(account)
    }

    #[tracing::instrument(name = "db.users.recipient", skip_all)]
    async fn recipient(&self, account: UserId) -> Result<Option<Recipient>, StoreError> {
        users::Entity::find_by_id(account.as_uuid())
            .one(self.db.connection())
            .await
            .map_err(store_error)?
            .map(|row| {
                Ok(Recipient {
                    is_active: row.is_active,
                    phone: row
                        .phone
                        .as_deref()
                        .map(PhoneNumber::parse)
                        .transpose()
                        .map_err(corrupt)?,
                    phone_verified: row.phone_verified,
                    sms_opt_in: row.sms_opt_in,
                })
            })
            .transpose()
    }

    #[tracing::instrument(name = "db.users.set_sms_opt_in", skip_all, fields(opt_in))]
    async fn set_sms_opt_in(
        &self,
        owner: Owner,
        opt_in: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        users::Entity::update_many()
            .set(users::ActiveModel {
                sms_opt_in: Set(opt_in),
                updated_at: Set(at),
                ..Default::default()
            })
            .filter(users::Column::Id.eq(owner.user_id.as_uuid()))
            .filter(users::Column::TenantId.eq(owner.tenant_id.as_uuid()))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
