//! The global plant catalog, plant personalities and companion relationships.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Personalities {
    Table,
    Id,
    Key,
    Name,
    Description,
    SystemPrompt,
    Templates,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum CatalogPlants {
    Table,
    Id,
    CommonName,
    ScientificName,
    WateringIntervalDays,
    Light,
    DefaultPersonalityId,
    Restricted,
    RestrictedReason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum CompanionRelationships {
    Table,
    Id,
    PlantId,
    CompanionId,
    Kind,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Personalities::Table)
                    .if_not_exists()
                    .col(pk_uuid(Personalities::Id))
                    .col(string_len_uniq(Personalities::Key, 40))
                    .col(string_len(Personalities::Name, 100))
                    .col(text(Personalities::Description))
                    .col(text(Personalities::SystemPrompt))
                    // {"greeting": [..], "water": [..], "light": [..], "sad": [..], "default": [..]}
                    .col(json(Personalities::Templates))
                    .col(timestamp_with_time_zone(Personalities::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CatalogPlants::Table)
                    .if_not_exists()
                    .col(pk_uuid(CatalogPlants::Id))
                    .col(string_len_uniq(CatalogPlants::CommonName, 100))
                    .col(string_len(CatalogPlants::ScientificName, 150))
                    .col(integer(CatalogPlants::WateringIntervalDays))
                    .col(string_len(CatalogPlants::Light, 20))
                    .col(uuid(CatalogPlants::DefaultPersonalityId))
                    .col(boolean(CatalogPlants::Restricted).default(false))
                    .col(text_null(CatalogPlants::RestrictedReason))
                    .col(timestamp_with_time_zone(CatalogPlants::CreatedAt))
                    .col(timestamp_with_time_zone(CatalogPlants::UpdatedAt))
                    .check(Expr::col(CatalogPlants::WateringIntervalDays).gt(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_catalog_plants_personality")
                            .from(CatalogPlants::Table, CatalogPlants::DefaultPersonalityId)
                            .to(Personalities::Table, Personalities::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_catalog_plants_scientific_name")
                    .table(CatalogPlants::Table)
                    .col(CatalogPlants::ScientificName)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CompanionRelationships::Table)
                    .if_not_exists()
                    .col(pk_uuid(CompanionRelationships::Id))
                    .col(uuid(CompanionRelationships::PlantId))
                    .col(uuid(CompanionRelationships::CompanionId))
                    .col(string_len(CompanionRelationships::Kind, 16))
                    .col(text(CompanionRelationships::Reason))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_companions_plant")
                            .from(
                                CompanionRelationships::Table,
                                CompanionRelationships::PlantId,
                            )
                            .to(CatalogPlants::Table, CatalogPlants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_companions_companion")
                            .from(
                                CompanionRelationships::Table,
                                CompanionRelationships::CompanionId,
                            )
                            .to(CatalogPlants::Table, CatalogPlants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_companions_pair")
                    .table(CompanionRelationships::Table)
                    .col(CompanionRelationships::PlantId)
                    .col(CompanionRelationships::CompanionId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The pair index serves lookups by `plant_id`; lookups from the other side need their own.
        manager
            .create_index(
                Index::create()
                    .name("ix_companions_companion")
                    .table(CompanionRelationships::Table)
                    .col(CompanionRelationships::CompanionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(CompanionRelationships::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(CatalogPlants::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Personalities::Table).to_owned())
            .await
    }
}
