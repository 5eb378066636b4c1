//! The SMS channel's tables: the SMS log, inbound messages already answered, accounts by phone
//! number, the reminder schedule and phone verification codes.

mod accounts;
mod inbound;
mod reminder_queue;
mod sms_log;
mod verification_codes;

pub use accounts::SeaOrmSmsAccounts;
pub use inbound::SeaOrmInboundSmsLog;
pub use reminder_queue::SeaOrmReminderQueue;
pub use sms_log::SeaOrmSmsLog;
pub use verification_codes::SeaOrmVerificationCodes;
