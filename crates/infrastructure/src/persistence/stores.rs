//! Every database-backed port over one connection pool, as the composition root takes them.

use std::sync::Arc;

use application::compose::Stores;

use super::{
    Database, SeaOrmAuditLog, SeaOrmCatalogRepository, SeaOrmDatabaseInspector, SeaOrmFlagStore,
    SeaOrmIdempotencyStore, SeaOrmRetentionStore, SeaOrmUnitOfWork,
    gardens::{SeaOrmComplianceAudit, SeaOrmGardenRepository, SeaOrmPlantingRepository},
    identity::{SeaOrmRefreshTokenRepository, SeaOrmTenantRepository, SeaOrmUserRepository},
    plants::{SeaOrmMessageRepository, SeaOrmUserPlantRepository},
    sms::{
        SeaOrmInboundSmsLog, SeaOrmReminderQueue, SeaOrmSmsAccounts, SeaOrmSmsLog,
        SeaOrmVerificationCodes,
    },
};

/// The sea-orm adapter of every storage port, sharing `database`'s pool.
#[must_use]
pub fn stores(database: &Database) -> Stores {
    let sms_log = Arc::new(SeaOrmSmsLog::new(database.clone()));
    Stores {
        tenants: Arc::new(SeaOrmTenantRepository::new(database.clone())),
        users: Arc::new(SeaOrmUserRepository::new(database.clone())),
        refresh_tokens: Arc::new(SeaOrmRefreshTokenRepository::new(database.clone())),
        unit_of_work: Arc::new(SeaOrmUnitOfWork::new(database.clone())),
        audit_log: Arc::new(SeaOrmAuditLog::new(database.clone())),
        sms_log: sms_log.clone(),
        sms_log_queries: sms_log,
        compliance: Arc::new(SeaOrmComplianceAudit::new(database.clone())),
        database: Arc::new(SeaOrmDatabaseInspector::new(database.clone())),
        flag_store: Arc::new(SeaOrmFlagStore::new(database.clone())),
        catalog: Arc::new(SeaOrmCatalogRepository::new(database.clone())),
        user_plants: Arc::new(SeaOrmUserPlantRepository::new(database.clone())),
        messages: Arc::new(SeaOrmMessageRepository::new(database.clone())),
        gardens: Arc::new(SeaOrmGardenRepository::new(database.clone())),
        plantings: Arc::new(SeaOrmPlantingRepository::new(database.clone())),
        sms_accounts: Arc::new(SeaOrmSmsAccounts::new(database.clone())),
        inbound_log: Arc::new(SeaOrmInboundSmsLog::new(database.clone())),
        verification_codes: Arc::new(SeaOrmVerificationCodes::new(database.clone())),
        reminder_queue: Arc::new(SeaOrmReminderQueue::new(database.clone())),
        idempotency: Arc::new(SeaOrmIdempotencyStore::new(database.clone())),
        retention: Arc::new(SeaOrmRetentionStore::new(database.clone())),
    }
}
