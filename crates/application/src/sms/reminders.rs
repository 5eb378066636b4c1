//! Watering reminders: every due plant texts its owner exactly once, then waits for its next
//! watering.

use std::sync::Arc;

use domain::sms::SmsBody;

use super::{outbox::SmsOutbox, ports::ReminderQueue};
use crate::{
    chat::Conversations,
    flags::{FeatureFlags, Flag},
    store::StoreError,
    system::Clock,
};

/// How many due plants one claim takes; small batches let several workers share the work.
const CLAIM_BATCH: u64 = 50;

/// Everything reminders need, wired by the server.
#[derive(Clone)]
pub struct ReminderPorts {
    /// The reminder schedule.
    pub queue: Arc<dyn ReminderQueue>,
    /// Writes the plant's message.
    pub conversations: Conversations,
    /// Sends it.
    pub outbox: SmsOutbox,
    /// The `sms_reminders` switch.
    pub flags: Arc<dyn FeatureFlags>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ReminderPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReminderPorts").finish_non_exhaustive()
    }
}

/// The schedule could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the reminder schedule could not be read")]
pub struct ReminderError(#[from] StoreError);

/// The reminders use case, run by a worker every minute.
#[derive(Clone)]
pub struct Reminders {
    ports: ReminderPorts,
}

impl std::fmt::Debug for Reminders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reminders").finish_non_exhaustive()
    }
}

impl Reminders {
    /// The use case over `ports`.
    #[must_use]
    pub const fn new(ports: ReminderPorts) -> Self {
        Self { ports }
    }

    /// Texts the owner of every plant whose reminder is due, unless the `sms_reminders` flag is
    /// off. Each plant is claimed — and rescheduled — before its text is written, so no plant is
    /// reminded twice even with several workers. Returns how many reminders went out.
    ///
    /// # Errors
    /// [`ReminderError`] when due plants cannot be claimed; a reminder that fails by itself is
    /// logged and the others go on.
    #[tracing::instrument(name = "reminders.send_due", skip_all, fields(sent))]
    pub async fn send_due(&self) -> Result<usize, ReminderError> {
        if !self.ports.flags.is_enabled(Flag::SmsReminders) {
            return Ok(0);
        }
        let mut sent = 0;
        loop {
            let due = self
                .ports
                .queue
                .claim_due(self.ports.clock.now(), CLAIM_BATCH)
                .await?;
            let claimed = due.len();
            for reminder in due {
                let message = match self
                    .ports
                    .conversations
                    .reminder(reminder.owner, reminder.plant_id)
                    .await
                {
                    Ok(message) => message,
                    Err(error) => {
                        tracing::error!(error = %error, plant_id = %reminder.plant_id, "reminder not written");
                        continue;
                    }
                };
                let Some(body) =
                    SmsBody::shortened(&format!("{}: {}", message.nickname, message.text))
                else {
                    continue;
                };
                match self
                    .ports
                    .outbox
                    .send(Some(reminder.owner), reminder.phone, body)
                    .await
                {
                    Ok(_) => sent += 1,
                    Err(error) => {
                        tracing::error!(error = %error, plant_id = %reminder.plant_id, "reminder not logged");
                    }
                }
            }
            if claimed < usize::try_from(CLAIM_BATCH).unwrap_or(usize::MAX) {
                break;
            }
        }
        tracing::Span::current().record("sent", sent);
        Ok(sent)
    }
}
