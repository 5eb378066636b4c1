//! The audit log of every platform-admin call.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum AdminAuditLog {
    Table,
    Id,
    Actor,
    Action,
    Target,
    OldValue,
    NewValue,
    Outcome,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AdminAuditLog::Table)
                    .if_not_exists()
                    .col(pk_uuid(AdminAuditLog::Id))
                    .col(string_len(AdminAuditLog::Actor, 64))
                    .col(string_len(AdminAuditLog::Action, 64))
                    .col(string_len_null(AdminAuditLog::Target, 200))
                    // JSON documents as text: the same on SQLite and PostgreSQL, and never queried.
                    .col(text_null(AdminAuditLog::OldValue))
                    .col(text_null(AdminAuditLog::NewValue))
                    .col(string_len(AdminAuditLog::Outcome, 16))
                    .col(timestamp_with_time_zone(AdminAuditLog::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AdminAuditLog::Table).to_owned())
            .await
    }
}
