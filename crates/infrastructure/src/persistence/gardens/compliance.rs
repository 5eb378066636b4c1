use application::{
    gardens::{ComplianceDecision, ComplianceEntry, ports::ComplianceAudit},
    paging::{Page, PageRequest},
    store::StoreError,
};
use async_trait::async_trait;
use domain::{
    catalog::CatalogPlantId,
    gardens::{GardenId, Planting, PlantingId},
    identity::{TenantId, UserId},
};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::Expr,
};

use super::plantings::insert_planting;
use crate::persistence::{
    Database,
    entities::{compliance_audit, users},
    store_error::store_error,
    transaction::open_on_pool,
};

/// The compliance audit: appended in the transaction that flags the user (and, in log-only
/// mode, stores the planting); the database refuses any change afterwards.
#[derive(Debug, Clone)]
pub struct SeaOrmComplianceAudit {
    db: Database,
}

impl SeaOrmComplianceAudit {
    /// An audit over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

fn entry_of(row: compliance_audit::Model) -> Result<ComplianceEntry, StoreError> {
    let decision = ComplianceDecision::parse(&row.decision).ok_or_else(|| {
        StoreError::Unexpected(format!("unknown compliance decision `{}`", row.decision).into())
    })?;
    Ok(ComplianceEntry {
        id: row.id,
        tenant_id: TenantId::from_uuid(row.tenant_id),
        user_id: UserId::from_uuid(row.user_id),
        garden_id: GardenId::from_uuid(row.garden_id),
        catalog_plant_id: CatalogPlantId::from_uuid(row.catalog_plant_id),
        planting_id: row.planting_id.map(PlantingId::from_uuid),
        decision,
        reason: row.reason,
        created_at: row.created_at,
    })
}

#[async_trait]
impl ComplianceAudit for SeaOrmComplianceAudit {
    #[tracing::instrument(name = "db.compliance_audit.record", skip_all, fields(decision = entry.decision.as_str()))]
    async fn record(
        &self,
        entry: &ComplianceEntry,
        planting: Option<&Planting>,
    ) -> Result<bool, StoreError> {
        let transaction = open_on_pool(self.db.connection())
            .await
            .map_err(store_error)?;
        if let Some(planting) = planting
            && !insert_planting(&transaction, planting).await?
        {
            return Ok(false);
        }
        let row = compliance_audit::ActiveModel {
            id: Set(entry.id),
            tenant_id: Set(entry.tenant_id.as_uuid()),
            user_id: Set(entry.user_id.as_uuid()),
            garden_id: Set(entry.garden_id.as_uuid()),
            catalog_plant_id: Set(entry.catalog_plant_id.as_uuid()),
            planting_id: Set(entry.planting_id.map(|id| id.as_uuid())),
            decision: Set(entry.decision.as_str().to_owned()),
            reason: Set(entry.reason.clone()),
            created_at: Set(entry.created_at),
        };
        compliance_audit::Entity::insert(row)
            .exec_without_returning(&transaction)
            .await
            .map_err(store_error)?;
        users::Entity::update_many()
            .col_expr(users::Column::Flagged, Expr::value(true))
            .filter(users::Column::Id.eq(entry.user_id.as_uuid()))
            .filter(users::Column::TenantId.eq(entry.tenant_id.as_uuid()))
            .exec(&transaction)
            .await
            .map_err(store_error)?;
        transaction.commit().await.map_err(store_error)?;
        Ok(true)
    }

    #[tracing::instrument(name = "db.compliance_audit.list", skip_all, fields(limit = page.limit))]
    async fn list(
        &self,
        tenant: Option<TenantId>,
        page: PageRequest,
    ) -> Result<Page<ComplianceEntry>, StoreError> {
        let mut query =
            compliance_audit::Entity::find().order_by_desc(compliance_audit::Column::Id);
        if let Some(tenant) = tenant {
            query = query.filter(compliance_audit::Column::TenantId.eq(tenant.as_uuid()));
        }
        if let Some(after) = page.after {
            query = query.filter(compliance_audit::Column::Id.lt(after));
        }
        let entries = query
            .limit(page.limit + 1)
            .all(self.db.connection())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(entry_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetched(entries, page.limit, |entry| {
            entry.id
        }))
    }
}
