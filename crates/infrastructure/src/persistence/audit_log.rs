//! The admin audit log in the relational database.

use application::{
    admin::ports::{AuditEntry, AuditLog, AuditOutcome},
    paging::{Page, PageRequest},
    store::StoreError,
};
use async_trait::async_trait;
use std::sync::Arc;

use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{Database, entities::admin_audit_log, executor::Executor, store_error::store_error};

/// Audit entries, append-only from the application's side.
#[derive(Debug, Clone)]
pub struct SeaOrmAuditLog {
    db: Executor,
}

impl SeaOrmAuditLog {
    /// A log over `db`.
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

fn parse_json(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

#[async_trait]
impl AuditLog for SeaOrmAuditLog {
    #[tracing::instrument(name = "db.audit_log.append", skip_all)]
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let row = admin_audit_log::ActiveModel {
            id: Set(entry.id),
            actor: Set(entry.actor.clone()),
            action: Set(entry.action.clone()),
            target: Set(entry.target.clone()),
            old_value: Set(entry.old.as_ref().map(ToString::to_string)),
            new_value: Set(entry.new.as_ref().map(ToString::to_string)),
            outcome: Set(entry.outcome.as_str().to_owned()),
            created_at: Set(entry.created_at),
        };
        admin_audit_log::Entity::insert(row)
            .exec(&self.db.conn())
            .await
            .map(|_| ())
            .map_err(store_error)
    }

    #[tracing::instrument(name = "db.audit_log.list", skip_all)]
    async fn list(&self, page: PageRequest) -> Result<Page<AuditEntry>, StoreError> {
        let mut query = admin_audit_log::Entity::find().order_by_desc(admin_audit_log::Column::Id);
        if let Some(after) = page.after {
            query = query.filter(admin_audit_log::Column::Id.lt(after));
        }
        let rows = query
            .limit(page.limit + 1)
            .all(&self.db.conn())
            .await
            .map_err(store_error)?;
        let entries = rows
            .into_iter()
            .map(|row| {
                let outcome = AuditOutcome::parse(&row.outcome).ok_or_else(|| {
                    StoreError::Unexpected(
                        format!("audit entry {} has an unknown outcome", row.id).into(),
                    )
                })?;
                Ok(AuditEntry {
                    id: row.id,
                    actor: row.actor,
                    action: row.action,
                    target: row.target,
                    old: parse_json(row.old_value),
                    new: parse_json(row.new_value),
                    outcome,
                    created_at: row.created_at,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page::from_overfetched(entries, page.limit, |e| e.id))
    }
}
