//! The ledger of daily jobs: one row per job and day, so that of several instances exactly one
//! runs a daily job (the insert decides).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    Job,
    Day,
    RanAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(JobRuns::Table)
                    .if_not_exists()
                    .col(string_len(JobRuns::Job, 64))
                    .col(string_len(JobRuns::Day, 10))
                    .col(timestamp_with_time_zone(JobRuns::RanAt))
                    .primary_key(Index::create().col(JobRuns::Job).col(JobRuns::Day))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(JobRuns::Table).to_owned())
            .await
    }
}
