use application::{
    gardens::ports::{PlantingColumns, PlantingRepository},
    paging::{Page, PageRequest},
    plants::Owner,
    store::StoreError,
};
use async_trait::async_trait;
use domain::{
    catalog::CatalogPlantId,
    gardens::{
        Cell, EventNotes, GardenId, Planting, PlantingEvent, PlantingEventId, PlantingId,
        PlantingStatus,
    },
    identity::{TenantId, UserId},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    Set, SqlErr,
};

use crate::persistence::{
    Database,
    entities::{planting_events, plantings},
    store_error::{corrupt, store_error},
};

/// Plantings and their events, always scoped by tenant and owner.
#[derive(Debug, Clone)]
pub struct SeaOrmPlantingRepository {
    db: Database,
}

impl SeaOrmPlantingRepository {
    /// A repository over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

fn owned_by(owner: Owner) -> Select<plantings::Entity> {
    plantings::Entity::find()
        .filter(plantings::Column::TenantId.eq(owner.tenant_id.as_uuid()))
        .filter(plantings::Column::UserId.eq(owner.user_id.as_uuid()))
}

impl TryFrom<plantings::Model> for Planting {
    type Error = StoreError;

    fn try_from(row: plantings::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            id: PlantingId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            owner: UserId::from_uuid(row.user_id),
            garden_id: GardenId::from_uuid(row.garden_id),
            catalog_plant_id: CatalogPlantId::from_uuid(row.catalog_plant_id),
            cell: Cell {
                x: u32::try_from(row.x).map_err(corrupt)?,
                y: u32::try_from(row.y).map_err(corrupt)?,
            },
            status: row.status.parse().map_err(corrupt)?,
            planted_on: row.planted_on,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The stored names of the statuses that occupy a cell (planned, active).
pub(super) fn occupying_statuses() -> impl Iterator<Item = &'static str> {
    PlantingStatus::ALL
        .into_iter()
        .filter(|status| status.occupies_cell())
        .map(PlantingStatus::as_str)
}

/// A coordinate as stored (cells are below 200, so it always fits).
fn stored_coordinate(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// The row of a new planting.
pub(super) fn planting_row(planting: &Planting) -> plantings::ActiveModel {
    plantings::ActiveModel {
        id: Set(planting.id.as_uuid()),
        tenant_id: Set(planting.tenant_id.as_uuid()),
        user_id: Set(planting.owner.as_uuid()),
        garden_id: Set(planting.garden_id.as_uuid()),
        catalog_plant_id: Set(planting.catalog_plant_id.as_uuid()),
        x: Set(stored_coordinate(planting.cell.x)),
        y: Set(stored_coordinate(planting.cell.y)),
        status: Set(planting.status.as_str().to_owned()),
        planted_on: Set(planting.planted_on),
        created_at: Set(planting.created_at),
        updated_at: Set(planting.updated_at),
    }
}

/// Inserts a planting; `false` when its garden is gone (the foreign key refuses it).
pub(super) async fn insert_planting(
    db: &impl ConnectionTrait,
    planting: &Planting,
) -> Result<bool, StoreError> {
    let inserted = plantings::Entity::insert(planting_row(planting))
        .exec_without_returning(db)
        .await;
    parent_gone_is_false(inserted)
}

/// `false` for a foreign-key violation: the parent row was deleted meanwhile.
fn parent_gone_is_false<T>(result: Result<T, DbErr>) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(error)
            if matches!(
                error.sql_err(),
                Some(SqlErr::ForeignKeyConstraintViolation(_))
            ) =>
        {
            Ok(false)
        }
        Err(error) => Err(store_error(error)),
    }
}

#[async_trait]
impl PlantingRepository for SeaOrmPlantingRepository {
    #[tracing::instrument(name = "db.plantings.create", skip_all)]
    async fn create(&self, planting: &Planting) -> Result<bool, StoreError> {
        insert_planting(self.db.connection(), planting).await
    }

    #[tracing::instrument(name = "db.plantings.find", skip_all)]
    async fn find(&self, owner: Owner, id: PlantingId) -> Result<Option<Planting>, StoreError> {
        owned_by(owner)
            .filter(plantings::Column::Id.eq(id.as_uuid()))
            .one(self.db.connection())
            .await
            .map_err(store_error)?
            .map(Planting::try_from)
            .transpose()
    }

    #[tracing::instrument(name = "db.plantings.list", skip_all, fields(limit = page.limit))]
    async fn list(
        &self,
        owner: Owner,
        garden: GardenId,
        status: Option<PlantingStatus>,
        page: PageRequest,
    ) -> Result<Page<Planting>, StoreError> {
        let mut query = owned_by(owner)
            .filter(plantings::Column::GardenId.eq(garden.as_uuid()))
            .order_by_asc(plantings::Column::Id);
        if let Some(status) = status {
            query = query.filter(plantings::Column::Status.eq(status.as_str()));
        }
        if let Some(after) = page.after {
            query = query.filter(plantings::Column::Id.gt(after));
        }
        let plantings = query
            .limit(page.limit + 1)
            .all(self.db.connection())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(Planting::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetched(plantings, page.limit, |planting| {
            planting.id.as_uuid()
        }))
    }

    #[tracing::instrument(name = "db.plantings.occupying", skip_all, fields(plantings))]
    async fn occupying(&self, owner: Owner, garden: GardenId) -> Result<Vec<Planting>, StoreError> {
        let plantings = owned_by(owner)
            .filter(plantings::Column::GardenId.eq(garden.as_uuid()))
            .filter(plantings::Column::Status.is_in(occupying_statuses()))
            .all(self.db.connection())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(Planting::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        tracing::Span::current().record("plantings", plantings.len());
        Ok(plantings)
    }

    #[tracing::instrument(name = "db.plantings.update", skip_all)]
    async fn update(
        &self,
        planting: &Planting,
        expected: PlantingStatus,
        changed: PlantingColumns,
    ) -> Result<bool, StoreError> {
        let mut statement = plantings::Entity::update_many()
            .col_expr(plantings::Column::UpdatedAt, planting.updated_at.into());
        if changed.status {
            statement =
                statement.col_expr(plantings::Column::Status, planting.status.as_str().into());
        }
        if changed.cell {
            statement = statement
                .col_expr(
                    plantings::Column::X,
                    stored_coordinate(planting.cell.x).into(),
                )
                .col_expr(
                    plantings::Column::Y,
                    stored_coordinate(planting.cell.y).into(),
                );
        }
        if changed.planted_on {
            statement =
                statement.col_expr(plantings::Column::PlantedOn, planting.planted_on.into());
        }
        let result = statement
            .filter(plantings::Column::Id.eq(planting.id.as_uuid()))
            .filter(plantings::Column::TenantId.eq(planting.tenant_id.as_uuid()))
            .filter(plantings::Column::UserId.eq(planting.owner.as_uuid()))
            .filter(plantings::Column::Status.eq(expected.as_str()))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected > 0)
    }

    #[tracing::instrument(name = "db.plantings.delete", skip_all)]
    async fn delete(&self, owner: Owner, id: PlantingId) -> Result<bool, StoreError> {
        let result = plantings::Entity::delete_many()
            .filter(plantings::Column::Id.eq(id.as_uuid()))
            .filter(plantings::Column::TenantId.eq(owner.tenant_id.as_uuid()))
            .filter(plantings::Column::UserId.eq(owner.user_id.as_uuid()))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected > 0)
    }

    #[tracing::instrument(name = "db.planting_events.list", skip_all, fields(limit = page.limit))]
    async fn events(
        &self,
        owner: Owner,
        planting: PlantingId,
        page: PageRequest,
    ) -> Result<Page<PlantingEvent>, StoreError> {
        let mut query = planting_events::Entity::find()
            .filter(planting_events::Column::TenantId.eq(owner.tenant_id.as_uuid()))
            .filter(planting_events::Column::UserId.eq(owner.user_id.as_uuid()))
            .filter(planting_events::Column::PlantingId.eq(planting.as_uuid()))
            .order_by_asc(planting_events::Column::Id);
        if let Some(after) = page.after {
            query = query.filter(planting_events::Column::Id.gt(after));
        }
        let events = query
            .limit(page.limit + 1)
            .all(self.db.connection())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|row| {
                Ok(PlantingEvent {
                    id: PlantingEventId::from_uuid(row.id),
                    tenant_id: TenantId::from_uuid(row.tenant_id),
                    owner: UserId::from_uuid(row.user_id),
                    planting_id: PlantingId::from_uuid(row.planting_id),
                    kind: row.kind.parse().map_err(corrupt)?,
                    occurred_at: row.occurred_at,
                    notes: row
                        .notes
                        .as_deref()
                        .map(EventNotes::parse)
                        .transpose()
                        .map_err(corrupt)?,
                    created_at: row.created_at,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page::from_overfetched(events, page.limit, |event| {
            event.id.as_uuid()
        }))
    }

    #[tracing::instrument(name = "db.planting_events.create", skip_all)]
    async fn add_event(&self, event: &PlantingEvent) -> Result<bool, StoreError> {
        let row = planting_events::ActiveModel {
            id: Set(event.id.as_uuid()),
            tenant_id: Set(event.tenant_id.as_uuid()),
            user_id: Set(event.owner.as_uuid()),
            planting_id: Set(event.planting_id.as_uuid()),
            kind: Set(event.kind.as_str().to_owned()),
            occurred_at: Set(event.occurred_at),
            notes: Set(event.notes.as_ref().map(|notes| notes.as_str().to_owned())),
            created_at: Set(event.created_at),
        };
        parent_gone_is_false(
            planting_events::Entity::insert(row)
                .exec_without_returning(self.db.connection())
                .await,
        )
    }
}
