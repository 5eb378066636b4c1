//! sea-orm entities: one per table, mirroring the migrations. Adapters translate them to domain
//! types; nothing outside this crate sees them.

pub(crate) mod admin_audit_log;
pub(crate) mod catalog_plants;
pub(crate) mod companion_relationships;
pub(crate) mod compliance_audit;
pub(crate) mod feature_flags;
pub(crate) mod gardens;
pub(crate) mod idempotency_keys;
pub(crate) mod inbound_sms;
pub(crate) mod job_runs;
pub(crate) mod messages;
pub(crate) mod personalities;
pub(crate) mod phone_verifications;
pub(crate) mod planting_events;
pub(crate) mod plantings;
pub(crate) mod refresh_tokens;
pub(crate) mod sms_log;
pub(crate) mod tenants;
pub(crate) mod user_plants;
pub(crate) mod users;
