//! The log of every SMS sent or received, with its delivery lifecycle.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_create_identity::Users;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum SmsLog {
    Table,
    Id,
    TenantId,
    UserId,
    ToNumber,
    FromNumber,
    Body,
    Status,
    ProviderMessageId,
    ErrorCode,
    ErrorMessage,
    RetryCount,
    LastRetryAt,
    SentAt,
    DeliveredAt,
    FailedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SmsLog::Table)
                    .if_not_exists()
                    .col(pk_uuid(SmsLog::Id))
                    .col(uuid_null(SmsLog::TenantId))
                    .col(uuid_null(SmsLog::UserId))
                    .col(string_len(SmsLog::ToNumber, 16))
                    .col(string_len(SmsLog::FromNumber, 16))
                    .col(string_len(SmsLog::Body, 1600))
                    .col(string_len(SmsLog::Status, 16))
                    .col(string_len_null(SmsLog::ProviderMessageId, 64).unique_key())
                    .col(string_len_null(SmsLog::ErrorCode, 32))
                    .col(text_null(SmsLog::ErrorMessage))
                    .col(integer(SmsLog::RetryCount).default(0))
                    .col(timestamp_with_time_zone_null(SmsLog::LastRetryAt))
                    .col(timestamp_with_time_zone_null(SmsLog::SentAt))
                    .col(timestamp_with_time_zone_null(SmsLog::DeliveredAt))
                    .col(timestamp_with_time_zone_null(SmsLog::FailedAt))
                    .col(timestamp_with_time_zone(SmsLog::CreatedAt))
                    .col(timestamp_with_time_zone(SmsLog::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sms_log_user")
                            .from(SmsLog::Table, SmsLog::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // The retry worker looks for failed messages by status and last attempt.
        manager
            .create_index(
                Index::create()
                    .name("ix_sms_log_status_retry")
                    .table(SmsLog::Table)
                    .col(SmsLog::Status)
                    .col(SmsLog::LastRetryAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sms_log_user")
                    .table(SmsLog::Table)
                    .col(SmsLog::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SmsLog::Table).to_owned())
            .await
    }
}
