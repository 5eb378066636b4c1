use std::sync::Arc;

use application::{
    identity::ports::{ExportPage, ExportTable, ProfileUpdate, SaveUserError, UserRepository},
    store::StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    identity::{AccountStanding, Email, FullName, PasswordHash, Role, TenantId, User, UserId},
    phone::PhoneNumber,
    sms::verification::UNVERIFIED_HOLD,
};
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, ExprTrait as _},
};

use crate::persistence::{
    AccountStandingCache, Database,
    account_standings::ChangedAccounts,
    entities::{sms_log, users},
    executor::Executor,
    store_error::{corrupt, store_error, unique_violation},
};

/// User accounts in the relational database. Every query but `find_on_platform` filters on the
/// tenant, so a user of another tenant is not found.
///
/// Account standings are served from the process's [`AccountStandingCache`] when it holds them;
/// every change to a standing drops it there once committed.
#[derive(Debug, Clone)]
pub struct SeaOrmUserRepository {
    db: Executor,
    standings: AccountStandingCache,
    /// Inside a transaction: the accounts whose standing it changed, dropped from the cache
    /// once it commits. On the pool each statement commits, and drops them at once.
    changed_in_transaction: Option<ChangedAccounts>,
}

impl SeaOrmUserRepository {
    /// A repository over `db`.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self {
            standings: db.changes().accounts().clone(),
            db: Executor::Pool(db),
            changed_in_transaction: None,
        }
    }

    /// The same repository inside an open transaction, noting in `changed` the accounts whose
    /// standing it changes.
    pub(crate) const fn within(
        transaction: Arc<DatabaseTransaction>,
        standings: AccountStandingCache,
        changed: ChangedAccounts,
    ) -> Self {
        Self {
            db: Executor::Transaction(transaction),
            standings,
            changed_in_transaction: Some(changed),
        }
    }

    /// The account's standing was changed by a statement just run.
    fn standing_changed(&self, id: UserId) {
        match &self.changed_in_transaction {
            Some(changed) => changed.note(id),
            None => self.standings.forget(id),
        }
    }
}

impl SeaOrmUserRepository {
    /// Frees `phone` from an account that set it more than [`UNVERIFIED_HOLD`] before `at`
    /// without ever verifying it: such a number no longer blocks whoever really holds it.
    async fn release_stale_hold(
        &self,
        phone: &PhoneNumber,
        at: DateTime<Utc>,
    ) -> Result<(), SaveUserError> {
        users::Entity::update_many()
            .col_expr(users::Column::Phone, Expr::value(Option::<String>::None))
            .col_expr(
                users::Column::PhoneSetAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(users::Column::SmsOptIn, Expr::value(false))
            .filter(users::Column::Phone.eq(phone.as_str()))
            .filter(users::Column::PhoneVerified.eq(false))
            .filter(users::Column::PhoneSetAt.lt(at - UNVERIFIED_HOLD))
            .exec(&self.db.conn())
            .await
            .map(|_| ())
            .map_err(|error| SaveUserError::Store(store_error(error)))
    }
}

fn to_domain(row: users::Model) -> Result<User, StoreError> {
    Ok(User {
        id: UserId::from_uuid(row.id),
        tenant_id: TenantId::from_uuid(row.tenant_id),
        email: Email::parse(&row.email).map_err(corrupt)?,
        full_name: FullName::parse(&row.full_name).map_err(corrupt)?,
        phone: row
            .phone
            .as_deref()
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(corrupt)?,
        phone_verified: row.phone_verified,
        password_hash: PasswordHash::new(row.password_hash),
        role: row.role.parse().map_err(corrupt)?,
        is_active: row.is_active,
        sms_opt_in: row.sms_opt_in,
        flagged: row.flagged,
        token_version: i64::from(row.token_version),
        tokens_valid_after: row.tokens_valid_after,
        created_at: row.created_at,
        updated_at: row.updated_at,
        last_login_at: row.last_login_at,
    })
}

fn save_error(error: sea_orm::DbErr) -> SaveUserError {
    match unique_violation(&error) {
        Some(message) if message.contains("phone") => SaveUserError::PhoneTaken,
        Some(_) => SaveUserError::EmailTaken,
        None => SaveUserError::Store(store_error(error)),
    }
}

fn scoped(tenant: TenantId, id: UserId) -> Condition {
    Condition::all()
        .add(users::Column::TenantId.eq(tenant.as_uuid()))
        .add(users::Column::Id.eq(id.as_uuid()))
}

#[async_trait]
impl UserRepository for SeaOrmUserRepository {
    #[tracing::instrument(name = "db.users.create", skip_all)]
    async fn create(&self, user: &User) -> Result<(), SaveUserError> {
        let row = users::ActiveModel {
            id: Set(user.id.as_uuid()),
            tenant_id: Set(user.tenant_id.as_uuid()),
            email: Set(user.email.as_str().to_owned()),
            full_name: Set(user.full_name.as_str().to_owned()),
            phone: Set(user.phone.as_ref().map(|p| p.as_str().to_owned())),
            phone_verified: Set(user.phone_verified),
            phone_set_at: Set(user.phone.as_ref().map(|_| user.created_at)),
            password_hash: Set(user.password_hash.as_str().to_owned()),
            role: Set(user.role.as_str().to_owned()),
            is_active: Set(user.is_active),
            sms_opt_in: Set(user.sms_opt_in),
            flagged: Set(user.flagged),
            token_version: Set(i32::try_from(user.token_version).unwrap_or(i32::MAX)),
            tokens_valid_after: Set(user.tokens_valid_after),
            created_at: Set(user.created_at),
            updated_at: Set(user.updated_at),
            last_login_at: Set(user.last_login_at),
        };
        if let Some(phone) = &user.phone {
            self.release_stale_hold(phone, user.created_at).await?;
        }
        users::Entity::insert(row)
            .exec(&self.db.conn())
            .await
            .map(|_| ())
            .map_err(save_error)
    }

    #[tracing::instrument(name = "db.users.find_by_email", skip_all)]
    async fn find_by_email(
        &self,
        tenant: TenantId,
        email: &Email,
    ) -> Result<Option<User>, StoreError> {
        users::Entity::find()
            .filter(users::Column::TenantId.eq(tenant.as_uuid()))
            .filter(users::Column::Email.eq(email.as_str()))
            .one(&self.db.conn())
            .await
            .map_err(store_error)?
            .map(to_domain)
            .transpose()
    }

    #[tracing::instrument(name = "db.users.find", skip_all)]
    async fn find(&self, tenant: TenantId, id: UserId) -> Result<Option<User>, StoreError> {
        users::Entity::find()
            .filter(scoped(tenant, id))
            .one(&self.db.conn())
            .await
            .map_err(store_error)?
            .map(to_domain)
            .transpose()
    }

    #[tracing::instrument(name = "db.users.find_standing", skip_all, fields(cached))]
    async fn find_standing(
        &self,
        tenant: TenantId,
        id: UserId,
    ) -> Result<Option<AccountStanding>, StoreError> {
        // Only the pool's reads are cached: a transaction must see its own writes.
        let on_pool = matches!(self.db, Executor::Pool(_));
        if on_pool && let Some(standing) = self.standings.get(tenant, id) {
            tracing::Span::current().record("cached", true);
            return Ok(Some(standing));
        }
        let ticket = self.standings.ticket();
        let row: Option<(i32, bool, String)> = users::Entity::find()
            .select_only()
            .columns([
                users::Column::TokenVersion,
                users::Column::IsActive,
                users::Column::Role,
            ])
            .filter(scoped(tenant, id))
            .into_tuple()
            .one(&self.db.conn())
            .await
            .map_err(store_error)?;
        let Some((token_version, is_active, role)) = row else {
            return Ok(None);
        };
        let standing = AccountStanding {
            token_version: i64::from(token_version),
            is_active,
            role: role.parse().map_err(corrupt)?,
        };
        if on_pool {
            self.standings.put(ticket, tenant, id, standing);
        }
        Ok(Some(standing))
    }

    #[tracing::instrument(name = "db.users.find_on_platform", skip_all)]
    async fn find_on_platform(&self, id: UserId) -> Result<Option<User>, StoreError> {
        users::Entity::find_by_id(id.as_uuid())
            .one(&self.db.conn())
            .await
            .map_err(store_error)?
            .map(to_domain)
            .transpose()
    }

    #[tracing::instrument(name = "db.users.record_login", skip_all)]
    async fn record_login(
        &self,
        tenant: TenantId,
        id: UserId,
        token_version: i64,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        users::Entity::update_many()
            .col_expr(users::Column::LastLoginAt, Expr::value(Some(at)))
            .filter(scoped(tenant, id))
            .filter(users::Column::IsActive.eq(true))
            .filter(
                users::Column::TokenVersion.eq(i32::try_from(token_version).unwrap_or(i32::MAX)),
            )
            .exec(&self.db.conn())
            .await
            .map(|result| result.rows_affected == 1)
            .map_err(store_error)
    }

    #[tracing::instrument(name = "db.users.replace_password_hash", skip_all)]
    async fn replace_password_hash(
        &self,
        tenant: TenantId,
        id: UserId,
        old: &PasswordHash,
        new: &PasswordHash,
    ) -> Result<bool, StoreError> {
        users::Entity::update_many()
            .col_expr(users::Column::PasswordHash, Expr::value(new.as_str()))
            .filter(scoped(tenant, id))
            .filter(users::Column::PasswordHash.eq(old.as_str()))
            .exec(&self.db.conn())
            .await
            .map(|result| result.rows_affected == 1)
            .map_err(store_error)
    }

    #[tracing::instrument(name = "db.users.update_profile", skip_all)]
    async fn update_profile(
        &self,
        tenant: TenantId,
        id: UserId,
        update: &ProfileUpdate,
    ) -> Result<bool, SaveUserError> {
        let mut statement = users::Entity::update_many()
            .col_expr(users::Column::UpdatedAt, Expr::value(update.updated_at));
        if let Some(replaced) = &update.replaces_password_hash {
            statement = statement.filter(users::Column::PasswordHash.eq(replaced.as_str()));
        }
        if let Some(full_name) = &update.full_name {
            statement =
                statement.col_expr(users::Column::FullName, Expr::value(full_name.as_str()));
        }
        if let Some(phone) = &update.phone {
            if let Some(phone) = phone {
                self.release_stale_hold(phone, update.updated_at).await?;
            }
            // A new number is unverified until a code sent to it comes back.
            statement = statement
                .col_expr(
                    users::Column::Phone,
                    Expr::value(phone.as_ref().map(|p| p.as_str().to_owned())),
                )
                .col_expr(users::Column::PhoneVerified, Expr::value(false))
                .col_expr(
                    users::Column::PhoneSetAt,
                    Expr::value(phone.as_ref().map(|_| update.updated_at)),
                );
        }
        if let Some(sms_opt_in) = update.sms_opt_in {
            statement = statement.col_expr(users::Column::SmsOptIn, Expr::value(sms_opt_in));
        }
        if let Some(hash) = &update.password_hash {
            statement = statement.col_expr(users::Column::PasswordHash, Expr::value(hash.as_str()));
        }
        statement
            .filter(scoped(tenant, id))
            .exec(&self.db.conn())
            .await
            .map(|result| result.rows_affected == 1)
            .map_err(save_error)
    }

    #[tracing::instrument(name = "db.users.mark_phone_verified", skip_all)]
    async fn mark_phone_verified(
        &self,
        tenant: TenantId,
        id: UserId,
        phone: &PhoneNumber,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        users::Entity::update_many()
            .col_expr(users::Column::PhoneVerified, Expr::value(true))
            .col_expr(users::Column::UpdatedAt, Expr::value(at))
            .filter(scoped(tenant, id))
            .filter(users::Column::Phone.eq(phone.as_str()))
            .exec(&self.db.conn())
            .await
            .map(|result| result.rows_affected == 1)
            .map_err(store_error)
    }

    #[tracing::instrument(name = "db.users.set_access", skip_all)]
    async fn set_access(
        &self,
        id: UserId,
        is_active: Option<bool>,
        role: Option<Role>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut statement =
            users::Entity::update_many().col_expr(users::Column::UpdatedAt, Expr::value(at));
        if let Some(is_active) = is_active {
            statement = statement.col_expr(users::Column::IsActive, Expr::value(is_active));
        }
        if let Some(role) = role {
            statement = statement.col_expr(users::Column::Role, Expr::value(role.as_str()));
        }
        let changed = statement
            .filter(users::Column::Id.eq(id.as_uuid()))
            .exec(&self.db.conn())
            .await
            .map(|result| result.rows_affected == 1)
            .map_err(store_error);
        // Also after an error: the statement may have landed before the connection was lost.
        self.standing_changed(id);
        changed
    }

    #[tracing::instrument(name = "db.users.revoke_tokens", skip_all)]
    async fn revoke_tokens(
        &self,
        tenant: TenantId,
        id: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let revoked = users::Entity::update_many()
            .col_expr(
                users::Column::TokenVersion,
                Expr::col(users::Column::TokenVersion).add(1),
            )
            .col_expr(users::Column::TokensValidAfter, Expr::value(Some(at)))
            .filter(scoped(tenant, id))
            .exec(&self.db.conn())
            .await
            .map(|_| ())
            .map_err(store_error);
        self.standing_changed(id);
        revoked
    }

    #[tracing::instrument(name = "db.users.erase", skip_all)]
    async fn erase(&self, tenant: TenantId, id: UserId) -> Result<bool, StoreError> {
        let txn = self.db.open_transaction().await.map_err(store_error)?;
        // The SMS log keeps other users' rows when a user is deleted (SET NULL); an erased
        // user's own messages go with them.
        sms_log::Entity::delete_many()
            .filter(sms_log::Column::UserId.eq(id.as_uuid()))
            .filter(sms_log::Column::TenantId.eq(tenant.as_uuid()))
            .exec(&txn)
            .await
            .map_err(store_error)?;
        // Refresh tokens, plants and their messages cascade from the user.
        let deleted = users::Entity::delete_many()
            .filter(scoped(tenant, id))
            .exec(&txn)
            .await
            .map_err(store_error)?
            .rows_affected;
        let committed = txn.commit().await.map_err(store_error);
        self.standing_changed(id);
        committed.map(|()| deleted == 1)
    }

    #[tracing::instrument(name = "db.users.export_page", skip_all, fields(table = table.as_str()))]
    async fn export_page(
        &self,
        tenant: TenantId,
        id: UserId,
        table: ExportTable,
        after: Option<String>,
        limit: u64,
    ) -> Result<ExportPage, StoreError> {
        super::export::export_page(&self.db.conn(), tenant, id, table, after, limit).await
    }
}
