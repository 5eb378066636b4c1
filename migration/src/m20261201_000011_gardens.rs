//! Gardens, their plantings and planting events; the compliance audit, which no statement can
//! change or delete once written; and the feature flags, stored so that every instance reads
//! the same values and an operator can switch them without a restart.

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{DatabaseBackend, Statement},
};

use crate::{
    m20261122_000001_create_identity::{Tenants, Users},
    m20261122_000002_create_catalog::CatalogPlants,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Gardens {
    Table,
    Id,
    TenantId,
    UserId,
    Name,
    Width,
    Length,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Plantings {
    Table,
    Id,
    TenantId,
    UserId,
    GardenId,
    CatalogPlantId,
    X,
    Y,
    Status,
    PlantedOn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlantingEvents {
    Table,
    Id,
    TenantId,
    UserId,
    PlantingId,
    Kind,
    OccurredAt,
    Notes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ComplianceAudit {
    Table,
    Id,
    TenantId,
    UserId,
    GardenId,
    CatalogPlantId,
    PlantingId,
    Decision,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FeatureFlags {
    Table,
    Name,
    Enabled,
    UpdatedAt,
}

fn cascade(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// Refuses UPDATE and DELETE on `compliance_audit`, whoever issues them.
const POSTGRES_IMMUTABLE_AUDIT: &[&str] = &[
    "CREATE OR REPLACE FUNCTION compliance_audit_immutable() RETURNS trigger AS $$ \
     BEGIN RAISE EXCEPTION 'compliance audit entries cannot be changed or deleted'; END; \
     $$ LANGUAGE plpgsql",
    "CREATE TRIGGER compliance_audit_no_update BEFORE UPDATE OR DELETE ON compliance_audit \
     FOR EACH ROW EXECUTE FUNCTION compliance_audit_immutable()",
    "CREATE TRIGGER compliance_audit_no_truncate BEFORE TRUNCATE ON compliance_audit \
     FOR EACH STATEMENT EXECUTE FUNCTION compliance_audit_immutable()",
];
const SQLITE_IMMUTABLE_AUDIT: &[&str] = &[
    "CREATE TRIGGER compliance_audit_no_update BEFORE UPDATE ON compliance_audit \
     BEGIN SELECT RAISE(ABORT, 'compliance audit entries cannot be changed or deleted'); END",
    "CREATE TRIGGER compliance_audit_no_delete BEFORE DELETE ON compliance_audit \
     BEGIN SELECT RAISE(ABORT, 'compliance audit entries cannot be changed or deleted'); END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Gardens::Table)
                    .if_not_exists()
                    .col(pk_uuid(Gardens::Id))
                    .col(uuid(Gardens::TenantId))
                    .col(uuid(Gardens::UserId))
                    .col(string_len(Gardens::Name, 400))
                    .col(integer(Gardens::Width))
                    .col(integer(Gardens::Length))
                    .col(timestamp_with_time_zone(Gardens::CreatedAt))
                    .col(timestamp_with_time_zone(Gardens::UpdatedAt))
                    .foreign_key(&mut cascade(
                        "fk_gardens_tenant",
                        (Gardens::Table, Gardens::TenantId),
                        (Tenants::Table, Tenants::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_gardens_user",
                        (Gardens::Table, Gardens::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // Erasing an account deletes its gardens by this column (ON DELETE CASCADE).
        manager
            .create_index(
                Index::create()
                    .name("ix_gardens_user")
                    .table(Gardens::Table)
                    .col(Gardens::UserId)
                    .to_owned(),
            )
            .await?;
        // A user's gardens, listed in id order.
        manager
            .create_index(
                Index::create()
                    .name("ix_gardens_tenant_user_id")
                    .table(Gardens::Table)
                    .col(Gardens::TenantId)
                    .col(Gardens::UserId)
                    .col(Gardens::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Plantings::Table)
                    .if_not_exists()
                    .col(pk_uuid(Plantings::Id))
                    .col(uuid(Plantings::TenantId))
                    .col(uuid(Plantings::UserId))
                    .col(uuid(Plantings::GardenId))
                    .col(uuid(Plantings::CatalogPlantId))
                    .col(integer(Plantings::X))
                    .col(integer(Plantings::Y))
                    .col(string_len(Plantings::Status, 16))
                    .col(date_null(Plantings::PlantedOn))
                    .col(timestamp_with_time_zone(Plantings::CreatedAt))
                    .col(timestamp_with_time_zone(Plantings::UpdatedAt))
                    .foreign_key(&mut cascade(
                        "fk_plantings_garden",
                        (Plantings::Table, Plantings::GardenId),
                        (Gardens::Table, Gardens::Id),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plantings_catalog")
                            .from(Plantings::Table, Plantings::CatalogPlantId)
                            .to(CatalogPlants::Table, CatalogPlants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // "The active plantings of a garden" (and every status filter) is one range of this
        // index, in id order: the list's keyset pagination reads it without sorting.
        manager
            .create_index(
                Index::create()
                    .name("ix_plantings_garden_status_id")
                    .table(Plantings::Table)
                    .col(Plantings::GardenId)
                    .col(Plantings::Status)
                    .col(Plantings::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlantingEvents::Table)
                    .if_not_exists()
                    .col(pk_uuid(PlantingEvents::Id))
                    .col(uuid(PlantingEvents::TenantId))
                    .col(uuid(PlantingEvents::UserId))
                    .col(uuid(PlantingEvents::PlantingId))
                    .col(string_len(PlantingEvents::Kind, 16))
                    .col(timestamp_with_time_zone(PlantingEvents::OccurredAt))
                    .col(text_null(PlantingEvents::Notes))
                    .col(timestamp_with_time_zone(PlantingEvents::CreatedAt))
                    .foreign_key(&mut cascade(
                        "fk_planting_events_planting",
                        (PlantingEvents::Table, PlantingEvents::PlantingId),
                        (Plantings::Table, Plantings::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_planting_events_planting_occurred")
                    .table(PlantingEvents::Table)
                    .col(PlantingEvents::PlantingId)
                    .col(PlantingEvents::OccurredAt)
                    .to_owned(),
            )
            .await?;

        // No foreign keys: an audit entry outlives the garden, the planting and the account it
        // names (it is a record of what was attempted, kept when they are erased).
        manager
            .create_table(
                Table::create()
                    .table(ComplianceAudit::Table)
                    .if_not_exists()
                    .col(pk_uuid(ComplianceAudit::Id))
                    .col(uuid(ComplianceAudit::TenantId))
                    .col(uuid(ComplianceAudit::UserId))
                    .col(uuid(ComplianceAudit::GardenId))
                    .col(uuid(ComplianceAudit::CatalogPlantId))
                    .col(uuid_null(ComplianceAudit::PlantingId))
                    .col(string_len(ComplianceAudit::Decision, 16))
                    .col(text(ComplianceAudit::Reason))
                    .col(timestamp_with_time_zone(ComplianceAudit::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // A tenant's entries, newest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_compliance_audit_tenant_id")
                    .table(ComplianceAudit::Table)
                    .col(ComplianceAudit::TenantId)
                    .col(ComplianceAudit::Id)
                    .to_owned(),
            )
            .await?;
        let statements = match manager.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES_IMMUTABLE_AUDIT,
            _ => SQLITE_IMMUTABLE_AUDIT,
        };
        for statement in statements {
            manager
                .get_connection()
                .execute_unprepared(statement)
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(FeatureFlags::Table)
                    .if_not_exists()
                    .col(string_len(FeatureFlags::Name, 64).primary_key())
                    .col(boolean(FeatureFlags::Enabled))
                    .col(timestamp_with_time_zone(FeatureFlags::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Rolling back must not become a way to destroy the audit trail.
        let entries = manager
            .get_connection()
            .query_one_raw(Statement::from_string(
                manager.get_database_backend(),
                "SELECT COUNT(*) AS entries FROM compliance_audit",
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "entries"))
            .transpose()?
            .unwrap_or(0);
        if entries > 0 {
            return Err(DbErr::Migration(format!(
                "compliance_audit holds {entries} entries, which are kept by law; export and \
                 archive them, then drop the table by hand before rolling back"
            )));
        }
        manager
            .drop_table(Table::drop().table(FeatureFlags::Table).to_owned())
            .await?;
        // Dropping the table drops its triggers on both databases.
        manager
            .drop_table(Table::drop().table(ComplianceAudit::Table).to_owned())
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS compliance_audit_immutable()")
                .await?;
        }
        for table in [
            PlantingEvents::Table.into_iden(),
            Plantings::Table.into_iden(),
            Gardens::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
