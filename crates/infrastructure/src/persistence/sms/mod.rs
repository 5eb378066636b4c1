//! The SMS channel's tables: the SMS log, inbound messages already answered, accounts by phone
//! number and the reminder schedule.

mod accounts;
mod inbound;
mod reminder_queue;
mod sms_log;

pub use accounts::SeaOrmSmsAccounts;
pub use inbound::SeaOrmInboundSmsLog;
pub use reminder_queue::SeaOrmReminderQueue;
pub use sms_log::SeaOrmSmsLog;
