//! The plants users own and the conversations they have with them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    m20261122_000001_create_identity::{Tenants, Users},
    m20261122_000002_create_catalog::{CatalogPlants, Personalities},
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum UserPlants {
    Table,
    Id,
    TenantId,
    UserId,
    CatalogPlantId,
    Nickname,
    PersonalityId,
    LastWateredAt,
    NextReminderAt,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    TenantId,
    UserPlantId,
    Direction,
    Channel,
    Body,
    Source,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserPlants::Table)
                    .if_not_exists()
                    .col(pk_uuid(UserPlants::Id))
                    .col(uuid(UserPlants::TenantId))
                    .col(uuid(UserPlants::UserId))
                    .col(uuid(UserPlants::CatalogPlantId))
                    .col(string_len(UserPlants::Nickname, 200))
                    .col(uuid(UserPlants::PersonalityId))
                    .col(timestamp_with_time_zone_null(UserPlants::LastWateredAt))
                    .col(timestamp_with_time_zone_null(UserPlants::NextReminderAt))
                    .col(boolean(UserPlants::IsActive).default(true))
                    .col(timestamp_with_time_zone(UserPlants::CreatedAt))
                    .col(timestamp_with_time_zone(UserPlants::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_plants_tenant")
                            .from(UserPlants::Table, UserPlants::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_plants_user")
                            .from(UserPlants::Table, UserPlants::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_plants_catalog")
                            .from(UserPlants::Table, UserPlants::CatalogPlantId)
                            .to(CatalogPlants::Table, CatalogPlants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_plants_personality")
                            .from(UserPlants::Table, UserPlants::PersonalityId)
                            .to(Personalities::Table, Personalities::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // A user's plants are always read within the tenant, by owner.
        manager
            .create_index(
                Index::create()
                    .name("ix_user_plants_tenant_user")
                    .table(UserPlants::Table)
                    .col(UserPlants::TenantId)
                    .col(UserPlants::UserId)
                    .to_owned(),
            )
            .await?;
        // The reminders worker scans for due plants.
        manager
            .create_index(
                Index::create()
                    .name("ix_user_plants_next_reminder")
                    .table(UserPlants::Table)
                    .col(UserPlants::NextReminderAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .if_not_exists()
                    .col(pk_uuid(Messages::Id))
                    .col(uuid(Messages::TenantId))
                    .col(uuid(Messages::UserPlantId))
                    .col(string_len(Messages::Direction, 8))
                    .col(string_len(Messages::Channel, 8))
                    .col(text(Messages::Body))
                    .col(string_len_null(Messages::Source, 8))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_messages_user_plant")
                            .from(Messages::Table, Messages::UserPlantId)
                            .to(UserPlants::Table, UserPlants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // History pages newest first per plant; ids are UUID v7, so they break ties in time order.
        manager
            .create_index(
                Index::create()
                    .name("ix_messages_plant_created")
                    .table(Messages::Table)
                    .col(Messages::UserPlantId)
                    .col(Messages::CreatedAt)
                    .col(Messages::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Messages::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(UserPlants::Table).to_owned())
            .await
    }
}
