//! Database migrations and seed data for Plant Texts.
//!
//! Every migration has a working `down`; the same migrations run on SQLite and PostgreSQL.
//! The seed inserts reference data (the `demo` tenant, personalities, the plant catalog and
//! companion relationships) and is idempotent: running it again inserts nothing twice.
#![forbid(unsafe_code)]

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_identity;
mod m20261122_000002_create_catalog;
mod m20261122_000003_create_user_plants_and_messages;
mod m20261122_000004_create_sms_log;
mod m20261122_000005_create_admin_audit_log;
mod m20261129_000006_sms_retries_and_inbound;
mod m20261129_000007_create_idempotency_keys;
mod m20261130_000008_phone_verification;
mod m20261130_000009_create_job_runs;
mod m20261130_000010_sms_outbox;
mod m20261201_000011_gardens;
mod m20261201_000012_catalog_revision;
mod m20261201_000013_catalog_change_notice;
mod m20261201_000014_account_change_notice;
mod m20261201_000015_messages_newest_per_plant;
pub mod seed;

/// The ordered list of every migration this release knows.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_identity::Migration),
            Box::new(m20261122_000002_create_catalog::Migration),
            Box::new(m20261122_000003_create_user_plants_and_messages::Migration),
            Box::new(m20261122_000004_create_sms_log::Migration),
            Box::new(m20261122_000005_create_admin_audit_log::Migration),
            Box::new(m20261129_000006_sms_retries_and_inbound::Migration),
            Box::new(m20261129_000007_create_idempotency_keys::Migration),
            Box::new(m20261130_000008_phone_verification::Migration),
            Box::new(m20261130_000009_create_job_runs::Migration),
            Box::new(m20261130_000010_sms_outbox::Migration),
            Box::new(m20261201_000011_gardens::Migration),
            Box::new(m20261201_000012_catalog_revision::Migration),
            Box::new(m20261201_000013_catalog_change_notice::Migration),
            Box::new(m20261201_000014_account_change_notice::Migration),
            Box::new(m20261201_000015_messages_newest_per_plant::Migration),
        ]
    }
}
