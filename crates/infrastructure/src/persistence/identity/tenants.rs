use application::{
    identity::ports::{SaveTenantError, TenantRepository},
    paging::{Page, PageRequest},
    store::StoreError,
};
use async_trait::async_trait;
use domain::identity::{Tenant, TenantId, TenantSlug};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::persistence::{
    Database,
    entities::tenants,
    store_error::{store_error, unique_violation},
};

/// Tenants in the relational database.
#[derive(Debug, Clone)]
pub struct SeaOrmTenantRepository {
    db: Database,
}

impl SeaOrmTenantRepository {
    /// A repository over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

fn to_domain(row: tenants::Model) -> Result<Tenant, StoreError> {
    let slug = TenantSlug::parse(&row.slug).map_err(|e| StoreError::Unexpected(Box::new(e)))?;
    Ok(Tenant {
        id: TenantId::from_uuid(row.id),
        slug,
        name: row.name,
        signup_open: row.signup_open,
        created_at: row.created_at,
    })
}

#[async_trait]
impl TenantRepository for SeaOrmTenantRepository {
    #[tracing::instrument(name = "db.tenants.create", skip_all)]
    async fn create(&self, tenant: &Tenant) -> Result<(), SaveTenantError> {
        let row = tenants::ActiveModel {
            id: Set(tenant.id.as_uuid()),
            slug: Set(tenant.slug.as_str().to_owned()),
            name: Set(tenant.name.clone()),
            signup_open: Set(tenant.signup_open),
            created_at: Set(tenant.created_at),
        };
        match tenants::Entity::insert(row)
            .exec(self.db.connection())
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if unique_violation(&error).is_some() => Err(SaveTenantError::SlugTaken),
            Err(error) => Err(store_error(error).into()),
        }
    }

    #[tracing::instrument(name = "db.tenants.find_by_slug", skip_all)]
    async fn find_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        tenants::Entity::find()
            .filter(tenants::Column::Slug.eq(slug.as_str()))
            .one(self.db.connection())
            .await
            .map_err(store_error)?
            .map(to_domain)
            .transpose()
    }

    #[tracing::instrument(name = "db.tenants.find", skip_all)]
    async fn find(&self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
        tenants::Entity::find_by_id(id.as_uuid())
            .one(self.db.connection())
            .await
            .map_err(store_error)?
            .map(to_domain)
            .transpose()
    }

    #[tracing::instrument(name = "db.tenants.list", skip_all)]
    async fn list(&self, page: PageRequest) -> Result<Page<Tenant>, StoreError> {
        let mut query = tenants::Entity::find().order_by_asc(tenants::Column::Id);
        if let Some(after) = page.after {
            query = query.filter(tenants::Column::Id.gt(after));
        }
        let rows = query
            .limit(page.limit + 1)
            .all(self.db.connection())
            .await
            .map_err(store_error)?;
        let tenants = rows
            .into_iter()
            .map(to_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetched(tenants, page.limit, |t| {
            t.id.as_uuid()
        }))
    }
}
