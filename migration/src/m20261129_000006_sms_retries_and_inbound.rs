//! When a failed SMS is due for another attempt, and the inbound messages already answered (so a
//! webhook Twilio repeats is not processed twice).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_create_identity::Users;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum SmsLog {
    Table,
    Status,
    NextRetryAt,
}

#[derive(DeriveIden)]
enum InboundSms {
    Table,
    MessageSid,
    UserId,
    Reply,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // NULL for a failure that retrying cannot fix, and once the retries are spent.
        manager
            .alter_table(
                Table::alter()
                    .table(SmsLog::Table)
                    .add_column(timestamp_with_time_zone_null(SmsLog::NextRetryAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sms_log_retry_due")
                    .table(SmsLog::Table)
                    .col(SmsLog::Status)
                    .col(SmsLog::NextRetryAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InboundSms::Table)
                    .if_not_exists()
                    .col(string_len(InboundSms::MessageSid, 64).primary_key())
                    .col(uuid_null(InboundSms::UserId))
                    // NULL while the first delivery is still being answered.
                    .col(text_null(InboundSms::Reply))
                    .col(timestamp_with_time_zone(InboundSms::ReceivedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inbound_sms_user")
                            .from(InboundSms::Table, InboundSms::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InboundSms::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_sms_log_retry_due")
                    .table(SmsLog::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SmsLog::Table)
                    .drop_column(SmsLog::NextRetryAt)
                    .to_owned(),
            )
            .await
    }
}
