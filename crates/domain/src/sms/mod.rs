//! Text messages: what may be sent, how a message's delivery status may move, when a failed send
//! is retried, and how an inbound text is read (keywords, the plant it names).

mod addressing;
mod body;
mod keyword;
pub mod outbox;
mod purpose;
mod retry;
mod status;
pub mod verification;

pub use addressing::Addressed;
pub use body::{InvalidSmsBody, SmsBody};
pub use keyword::Keyword;
pub use purpose::{Recipient, SmsPurpose};
pub use retry::RetrySchedule;
pub use status::SmsStatus;

crate::ids::uuid_id!(
    /// The id of an entry of the SMS log.
    SmsLogId
);
