//! The SMS log as a crash-proof outbox (SPEC §6.1): why each text is sent (so its recipient can
//! be checked again just before sending), the plant a reminder is about (its text is written
//! when it is sent), the lease of the worker sending it, and when the provider was last called
//! (a row taken over after such a call is looked up, never resent blindly).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum SmsLog {
    Table,
    Status,
    Purpose,
    PlantId,
    LeaseToken,
    LeaseUntil,
    AttemptedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        let columns = [
            string_len(SmsLog::Purpose, 16)
                .default("message")
                .to_owned(),
            uuid_null(SmsLog::PlantId),
            uuid_null(SmsLog::LeaseToken),
            timestamp_with_time_zone_null(SmsLog::LeaseUntil),
            timestamp_with_time_zone_null(SmsLog::AttemptedAt),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(SmsLog::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // Rows written before this release: their purpose from what they say (the previous
        // release texted users only reminders and codes), and a row left `pending` by a crash
        // may have reached Twilio — it is looked up, never resent blindly.
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE sms_log SET purpose = 'verification' WHERE body LIKE 'Plant Texts code:%'",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE sms_log SET purpose = 'reminder' \
             WHERE purpose = 'message' AND user_id IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE sms_log SET status = 'unknown', attempted_at = updated_at \
             WHERE status = 'pending'",
        )
        .await?;
        // Pending rows whose lease ran out, and unknown outcomes due for a lookup.
        manager
            .create_index(
                Index::create()
                    .name("ix_sms_log_status_lease")
                    .table(SmsLog::Table)
                    .col(SmsLog::Status)
                    .col(SmsLog::LeaseUntil)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_sms_log_status_lease")
                    .table(SmsLog::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            SmsLog::AttemptedAt,
            SmsLog::LeaseUntil,
            SmsLog::LeaseToken,
            SmsLog::PlantId,
            SmsLog::Purpose,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SmsLog::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
