use application::{
    paging::{Page, PageRequest},
    plants::{
        CatalogSummary, OwnedPlant, Owner,
        ports::{PlantColumns, UserPlantRepository},
    },
    store::StoreError,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    catalog::{CatalogPlantId, PersonalityKey},
    chat::Message,
    identity::{TenantId, UserId},
    plants::{Nickname, UserPlant, UserPlantId},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait as _, EntityTrait, FromQueryResult, IdenStatic as _,
    Iterable as _, JoinType, QueryFilter, QueryOrder, QuerySelect, QueryTrait as _,
    RelationTrait as _, Select,
    sea_query::{Alias, Expr, Query, SelectStatement},
};
use uuid::Uuid;

use super::messages::to_domain as message_from_row;
use crate::persistence::{
    Database,
    entities::{catalog_plants, messages, personalities, user_plants},
    store_error::{corrupt, store_error},
};

/// Users' plants, always scoped by tenant and owner.
#[derive(Debug, Clone)]
pub struct SeaOrmUserPlantRepository {
    db: Database,
}

impl SeaOrmUserPlantRepository {
    /// A repository over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

/// A plant joined with its species and personality key: one row per plant.
#[derive(Debug, FromQueryResult)]
struct PlantRow {
    id: Uuid,
    tenant_id: Uuid,
    user_id: Uuid,
    catalog_plant_id: Uuid,
    nickname: String,
    last_watered_at: Option<DateTime<Utc>>,
    next_reminder_at: Option<DateTime<Utc>>,
    is_active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    personality_key: String,
    common_name: String,
    scientific_name: String,
    watering_interval_days: i32,
    light: String,
}

impl TryFrom<PlantRow> for OwnedPlant {
    type Error = StoreError;

    fn try_from(row: PlantRow) -> Result<Self, Self::Error> {
        Ok(Self {
            plant: UserPlant {
                id: UserPlantId::from_uuid(row.id),
                tenant_id: TenantId::from_uuid(row.tenant_id),
                owner: UserId::from_uuid(row.user_id),
                catalog_plant_id: CatalogPlantId::from_uuid(row.catalog_plant_id),
                nickname: Nickname::parse(&row.nickname).map_err(corrupt)?,
                personality: PersonalityKey::parse(&row.personality_key).map_err(corrupt)?,
                last_watered_at: row.last_watered_at,
                next_reminder_at: row.next_reminder_at,
                is_active: row.is_active,
                created_at: row.created_at,
                updated_at: row.updated_at,
            },
            catalog: CatalogSummary {
                id: CatalogPlantId::from_uuid(row.catalog_plant_id),
                common_name: row.common_name,
                scientific_name: row.scientific_name,
                watering_interval_days: u32::try_from(row.watering_interval_days)
                    .map_err(corrupt)?,
                light: row.light.parse().map_err(corrupt)?,
            },
        })
    }
}

/// The id of the personality with `key`, as a subquery, so that writing a plant stays one
/// statement.
fn personality_id_of(key: &PersonalityKey) -> Expr {
    let select = Query::select()
        .column(personalities::Column::Id)
        .from(personalities::Entity)
        .and_where(personalities::Column::Key.eq(key.as_str()))
        .to_owned();
    Expr::SubQuery(None, Box::new(select.into()))
}

/// The owner's plants joined with their species and personality: one statement.
fn owned_by(owner: Owner) -> Select<user_plants::Entity> {
    user_plants::Entity::find()
        .select_only()
        .columns(user_plants::Column::iter())
        .column_as(personalities::Column::Key, "personality_key")
        .column(catalog_plants::Column::CommonName)
        .column(catalog_plants::Column::ScientificName)
        .column(catalog_plants::Column::WateringIntervalDays)
        .column(catalog_plants::Column::Light)
        .join(
            JoinType::InnerJoin,
            user_plants::Relation::CatalogPlant.def(),
        )
        .join(
            JoinType::InnerJoin,
            user_plants::Relation::Personality.def(),
        )
        .filter(user_plants::Column::TenantId.eq(owner.tenant_id.as_uuid()))
        .filter(user_plants::Column::UserId.eq(owner.user_id.as_uuid()))
}

/// The prefix of the message columns in [`with_recent_messages`]' rows.
const MESSAGE_PREFIX: &str = "message_";

/// The owner's plant joined with its `count` newest messages: one row per message, or one row
/// with empty message columns when there are none, so that a chat reads both in one round trip.
fn with_recent_messages(owner: Owner, id: UserPlantId, count: u64) -> SelectStatement {
    let recent = Alias::new("recent");
    let newest = messages::Entity::find()
        .filter(messages::Column::TenantId.eq(owner.tenant_id.as_uuid()))
        .filter(messages::Column::UserPlantId.eq(id.as_uuid()))
        .order_by_desc(messages::Column::Id)
        .limit(count)
        .into_query();
    let mut select = owned_by(owner)
        .filter(user_plants::Column::Id.eq(id.as_uuid()))
        .into_query();
    // `1 = 1`: every message row of the subquery belongs to this plant already.
    select.join_subquery(
        JoinType::LeftJoin,
        newest,
        recent.clone(),
        Expr::cust("1 = 1"),
    );
    for column in messages::Column::iter() {
        select.expr_as(
            Expr::col((recent.clone(), column)),
            Alias::new(format!("{MESSAGE_PREFIX}{}", column.as_str())),
        );
    }
    select
}

#[async_trait]
impl UserPlantRepository for SeaOrmUserPlantRepository {
    #[tracing::instrument(name = "db.user_plants.create", skip_all)]
    async fn create(&self, plant: &UserPlant) -> Result<(), StoreError> {
        let mut insert = Query::insert();
        insert
            .into_table(user_plants::Entity)
            .columns([
                user_plants::Column::Id,
                user_plants::Column::TenantId,
                user_plants::Column::UserId,
                user_plants::Column::CatalogPlantId,
                user_plants::Column::Nickname,
                user_plants::Column::PersonalityId,
                user_plants::Column::LastWateredAt,
                user_plants::Column::NextReminderAt,
                user_plants::Column::IsActive,
                user_plants::Column::CreatedAt,
                user_plants::Column::UpdatedAt,
            ])
            .values([
                plant.id.as_uuid().into(),
                plant.tenant_id.as_uuid().into(),
                plant.owner.as_uuid().into(),
                plant.catalog_plant_id.as_uuid().into(),
                plant.nickname.as_str().into(),
                personality_id_of(&plant.personality),
                plant.last_watered_at.into(),
                plant.next_reminder_at.into(),
                plant.is_active.into(),
                plant.created_at.into(),
                plant.updated_at.into(),
            ])
            .map_err(|error| StoreError::Unexpected(Box::new(error)))?;
        self.db
            .connection()
            .execute(&insert)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(name = "db.user_plants.find", skip_all)]
    async fn find(&self, owner: Owner, id: UserPlantId) -> Result<Option<OwnedPlant>, StoreError> {
        owned_by(owner)
            .filter(user_plants::Column::Id.eq(id.as_uuid()))
            .into_model::<PlantRow>()
            .one(self.db.connection())
            .await
            .map_err(store_error)?
            .map(OwnedPlant::try_from)
            .transpose()
    }

    #[tracing::instrument(
        name = "db.user_plants.find_with_recent_messages",
        skip_all,
        fields(count)
    )]
    async fn find_with_recent_messages(
        &self,
        owner: Owner,
        id: UserPlantId,
        count: u64,
    ) -> Result<Option<(OwnedPlant, Vec<Message>)>, StoreError> {
        let rows = self
            .db
            .connection()
            .query_all(&with_recent_messages(owner, id, count))
            .await
            .map_err(store_error)?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let owned =
            OwnedPlant::try_from(PlantRow::from_query_result(first, "").map_err(store_error)?)?;
        let mut recent = Vec::with_capacity(rows.len());
        for row in &rows {
            let message_id: Option<Uuid> = row.try_get("", "message_id").map_err(store_error)?;
            if message_id.is_some() {
                let message =
                    messages::Model::from_query_result(row, MESSAGE_PREFIX).map_err(store_error)?;
                recent.push(message_from_row(message)?);
            }
        }
        // A join does not keep the subquery's order: newest first again, by UUID v7 id.
        recent.sort_by_key(|message| std::cmp::Reverse(message.id));
        Ok(Some((owned, recent)))
    }

    #[tracing::instrument(name = "db.user_plants.list", skip_all, fields(limit = page.limit))]
    async fn list(&self, owner: Owner, page: PageRequest) -> Result<Page<OwnedPlant>, StoreError> {
        let mut query = owned_by(owner).order_by_asc(user_plants::Column::Id);
        if let Some(after) = page.after {
            query = query.filter(user_plants::Column::Id.gt(after));
        }
        let plants = query
            .limit(page.limit + 1)
            .into_model::<PlantRow>()
            .all(self.db.connection())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(OwnedPlant::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetched(plants, page.limit, |owned| {
            owned.plant.id.as_uuid()
        }))
    }

    #[tracing::instrument(name = "db.user_plants.update", skip_all)]
    async fn update(&self, plant: &UserPlant, changed: PlantColumns) -> Result<bool, StoreError> {
        let mut statement = user_plants::Entity::update_many().col_expr(
            user_plants::Column::UpdatedAt,
            Expr::value(plant.updated_at),
        );
        if changed.personality {
            statement = statement.col_expr(
                user_plants::Column::PersonalityId,
                personality_id_of(&plant.personality),
            );
        }
        if changed.nickname {
            statement = statement.col_expr(
                user_plants::Column::Nickname,
                Expr::value(plant.nickname.as_str()),
            );
        }
        if changed.next_reminder {
            statement = statement.col_expr(
                user_plants::Column::NextReminderAt,
                Expr::value(plant.next_reminder_at),
            );
        }
        if changed.last_watered {
            statement = statement.col_expr(
                user_plants::Column::LastWateredAt,
                Expr::value(plant.last_watered_at),
            );
        }
        let result = statement
            .filter(user_plants::Column::Id.eq(plant.id.as_uuid()))
            .filter(user_plants::Column::TenantId.eq(plant.tenant_id.as_uuid()))
            .filter(user_plants::Column::UserId.eq(plant.owner.as_uuid()))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected > 0)
    }

    #[tracing::instrument(name = "db.user_plants.find_by_nickname", skip_all)]
    async fn find_by_nickname(
        &self,
        owner: Owner,
        nickname: &str,
    ) -> Result<Option<UserPlant>, StoreError> {
        // Compared here rather than in SQL: SQLite's LOWER folds ASCII only.
        let wanted = nickname.to_lowercase();
        let rows = owned_by(owner)
            .filter(user_plants::Column::IsActive.eq(true))
            .order_by_asc(user_plants::Column::Id)
            .into_model::<PlantRow>()
            .all(self.db.connection())
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .find(|row| row.nickname.to_lowercase() == wanted)
            .map(|row| OwnedPlant::try_from(row).map(|owned| owned.plant))
            .transpose()
    }

    #[tracing::instrument(name = "db.user_plants.most_recent", skip_all)]
    async fn most_recent(&self, owner: Owner) -> Result<Option<UserPlant>, StoreError> {
        let owners_plants = Query::select()
            .column(user_plants::Column::Id)
            .from(user_plants::Entity)
            .and_where(user_plants::Column::TenantId.eq(owner.tenant_id.as_uuid()))
            .and_where(user_plants::Column::UserId.eq(owner.user_id.as_uuid()))
            .and_where(user_plants::Column::IsActive.eq(true))
            .to_owned();
        let last_talked_to = messages::Entity::find()
            .filter(messages::Column::TenantId.eq(owner.tenant_id.as_uuid()))
            .filter(messages::Column::UserPlantId.in_subquery(owners_plants))
            .order_by_desc(messages::Column::Id)
            .one(self.db.connection())
            .await
            .map_err(store_error)?;
        let mut query = owned_by(owner).filter(user_plants::Column::IsActive.eq(true));
        query = match last_talked_to {
            Some(message) => query.filter(user_plants::Column::Id.eq(message.user_plant_id)),
            // Ids are UUID v7: the greatest is the newest plant.
            None => query.order_by_desc(user_plants::Column::Id),
        };
        query
            .into_model::<PlantRow>()
            .one(self.db.connection())
            .await
            .map_err(store_error)?
            .map(|row| OwnedPlant::try_from(row).map(|owned| owned.plant))
            .transpose()
    }

    #[tracing::instrument(name = "db.user_plants.delete", skip_all)]
    async fn delete(&self, owner: Owner, id: UserPlantId) -> Result<bool, StoreError> {
        // Messages go with the plant (ON DELETE CASCADE).
        let result = user_plants::Entity::delete_many()
            .filter(user_plants::Column::Id.eq(id.as_uuid()))
            .filter(user_plants::Column::TenantId.eq(owner.tenant_id.as_uuid()))
            .filter(user_plants::Column::UserId.eq(owner.user_id.as_uuid()))
            .exec(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected > 0)
    }
}
