//! The `user_plants` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "user_plants")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub catalog_plant_id: Uuid,
    pub nickname: String,
    pub personality_id: Uuid,
    pub last_watered_at: Option<DateTimeUtc>,
    pub next_reminder_at: Option<DateTimeUtc>,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {
    #[sea_orm(
        belongs_to = "super::catalog_plants::Entity",
        from = "Column::CatalogPlantId",
        to = "super::catalog_plants::Column::Id"
    )]
    CatalogPlant,
    #[sea_orm(
        belongs_to = "super::personalities::Entity",
        from = "Column::PersonalityId",
        to = "super::personalities::Column::Id"
    )]
    Personality,
}

impl ActiveModelBehavior for ActiveModel {}
