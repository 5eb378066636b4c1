//! Verified phone numbers (SPEC §6.1): whether the account's number was confirmed by a code sent
//! to it, since when the number is set (an unverified number stops blocking other accounts after
//! 24 hours), and the codes themselves — hashed, with expiry and a count of wrong tries.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_create_identity::Users;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum UsersPhone {
    PhoneVerified,
    PhoneSetAt,
}

#[derive(DeriveIden)]
enum SmsLog {
    Table,
    SentAt,
}

#[derive(DeriveIden)]
enum PhoneVerifications {
    Table,
    Id,
    UserId,
    Phone,
    CodeHash,
    Attempts,
    ExpiresAt,
    ConsumedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Numbers set before verification existed count as unverified.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(boolean(UsersPhone::PhoneVerified).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(UsersPhone::PhoneSetAt))
                    .to_owned(),
            )
            .await?;
        // A number set before this release has held its place since at least the last change.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE users SET phone_set_at = updated_at WHERE phone IS NOT NULL",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PhoneVerifications::Table)
                    .if_not_exists()
                    .col(uuid(PhoneVerifications::Id).primary_key())
                    .col(uuid(PhoneVerifications::UserId))
                    .col(string_len(PhoneVerifications::Phone, 16))
                    .col(string_len(PhoneVerifications::CodeHash, 64))
                    .col(integer(PhoneVerifications::Attempts).default(0))
                    .col(timestamp_with_time_zone(PhoneVerifications::ExpiresAt))
                    .col(timestamp_with_time_zone_null(
                        PhoneVerifications::ConsumedAt,
                    ))
                    .col(timestamp_with_time_zone(PhoneVerifications::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_phone_verifications_user")
                            .from(PhoneVerifications::Table, PhoneVerifications::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_phone_verifications_user")
                    .table(PhoneVerifications::Table)
                    .col(PhoneVerifications::UserId)
                    .col(PhoneVerifications::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_phone_verifications_phone")
                    .table(PhoneVerifications::Table)
                    .col(PhoneVerifications::Phone)
                    .col(PhoneVerifications::CreatedAt)
                    .to_owned(),
            )
            .await?;
        // The daily caps count texts sent since a moment, per account, number and in all.
        manager
            .create_index(
                Index::create()
                    .name("ix_sms_log_sent_at")
                    .table(SmsLog::Table)
                    .col(SmsLog::SentAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_sms_log_sent_at")
                    .table(SmsLog::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(PhoneVerifications::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(UsersPhone::PhoneSetAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(UsersPhone::PhoneVerified)
                    .to_owned(),
            )
            .await
    }
}
