use application::{
    gardens::ports::{GardenColumns, GardenRepository},
    paging::{Page, PageRequest},
    plants::Owner,
    store::StoreError,
};
use async_trait::async_trait;
use domain::{
    gardens::{Garden, GardenId, GardenName, GridSide},
    identity::{TenantId, UserId},
};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set,
};

use super::plantings::occupying_statuses;
use crate::persistence::{
    Database,
    entities::{gardens, plantings},
    store_error::{corrupt, store_error},
};

/// Gardens, always scoped by tenant and owner.
#[derive(Debug, Clone)]
pub struct SeaOrmGardenRepository {
    db: Database,
}

impl SeaOrmGardenRepository {
    /// A repository over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

fn owned_by(owner: Owner) -> Select<gardens::Entity> {
    gardens::Entity::find()
        .filter(gardens::Column::TenantId.eq(owner.tenant_id.as_uuid()))
        .filter(gardens::Column::UserId.eq(owner.user_id.as_uuid()))
}

impl TryFrom<gardens::Model> for Garden {
    type Error = StoreError;

    fn try_from(row: gardens::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            id: GardenId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            owner: UserId::from_uuid(row.user_id),
            name: GardenName::parse(&row.name).map_err(corrupt)?,
            width: GridSide::new(row.width.into()).map_err(corrupt)?,
            length: GridSide::new(row.length.into()).map_err(corrupt)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A grid side as stored (at most 200, so it always fits).
pub(super) fn stored_side(side: GridSide) -> i32 {
    i32::try_from(side.get()).unwrap_or(i32::MAX)
}

#[async_trait]
impl GardenRepository for SeaOrmGardenRepository {
    #[tracing::instrument(name = "db.gardens.create", skip_all)]
    async fn create(&self, garden: &Garden) -> Result<(), StoreError> {
        let row = gardens::ActiveModel {
            id: Set(garden.id.as_uuid()),
            tenant_id: Set(garden.tenant_id.as_uuid()),
            user_id: Set(garden.owner.as_uuid()),
            name: Set(garden.name.as_str().to_owned()),
            width: Set(stored_side(garden.width)),
            length: Set(stored_side(garden.length)),
            created_at: Set(garden.created_at),
            updated_at: Set(garden.updated_at),
        };
        gardens::Entity::insert(row)
            .exec_without_returning(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(name = "db.gardens.find", skip_all)]
    async fn find(&self, owner: Owner, id: GardenId) -> Result<Option<Garden>, StoreError> {
        owned_by(owner)
            .filter(gardens::Column::Id.eq(id.as_uuid()))
            .one(self.db.connection())
            .await
            .map_err(store_error)?
            .map(Garden::try_from)
            .transpose()
    }

    #[tracing::instrument(name = "db.gardens.list", skip_all, fields(limit = page.limit))]
    async fn list(&self, owner: Owner, page: PageRequest) -> Result<Page<Garden>, StoreError> {
        let mut query = owned_by(owner).order_by_asc(gardens::Column::Id);
        if let Some(after) = page.after {
            query = query.filter(gardens::Column::Id.gt(after));
        }
        let gardens = query
            .limit(page.limit + 1)
            .all(self.db.connection())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(Garden::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetched(gardens, page.limit, |garden| {
            garden.id.as_uuid()
        }))
    }

    #[tracing::instrument(name = "db.gardens.update", skip_all)]
    async fn update(&self, garden: &Garden, changed: GardenColumns) -> Result<bool, StoreError> {
        let mut statement = gardens::Entity::update_many()
            .col_expr(gardens::Column::UpdatedAt, garden.updated_at.into());
        if changed.name {
            statement = statement.col_expr(gardens::Column::Name, garden.name.as_str().into());
        }
        if changed.width {
            statement =
                statement.col_expr(gardens::Column::Width, stored_side(garden.width).into());
        }
        if changed.length {
            statement =
                statement.col_expr(gardens::Column::Length, stored_side(garden.length).into());
        }
        let result = statement
            .filter(gardens::Column::Id.eq(garden.id.as_uuid()))
            .filter(gardens::Column::TenantId.eq(garden.tenant_id.as_uuid()))
            .filter(gardens::Column::UserId.eq(garden.owner.as_uuid()))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected > 0)
    }

    #[tracing::instrument(name = "db.gardens.count_occupying", skip_all)]
    async fn count_occupying(&self, owner: Owner, id: GardenId) -> Result<u64, StoreError> {
        plantings::Entity::find()
            .filter(plantings::Column::TenantId.eq(owner.tenant_id.as_uuid()))
            .filter(plantings::Column::UserId.eq(owner.user_id.as_uuid()))
            .filter(plantings::Column::GardenId.eq(id.as_uuid()))
            .filter(plantings::Column::Status.is_in(occupying_statuses()))
            .count(self.db.connection())
            .await
            .map_err(store_error)
    }

    #[tracing::instrument(name = "db.gardens.delete", skip_all)]
    async fn delete(&self, owner: Owner, id: GardenId) -> Result<bool, StoreError> {
        // Plantings and their events go with it (ON DELETE CASCADE).
        let result = gardens::Entity::delete_many()
            .filter(gardens::Column::Id.eq(id.as_uuid()))
            .filter(gardens::Column::TenantId.eq(owner.tenant_id.as_uuid()))
            .filter(gardens::Column::UserId.eq(owner.user_id.as_uuid()))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected > 0)
    }
}
