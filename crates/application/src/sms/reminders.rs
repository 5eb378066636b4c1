//! Watering reminders: every due plant texts its owner exactly once, even across crashes, then
//! waits for its next watering.

use std::sync::Arc;

use async_trait::async_trait;
use domain::{plants::UserPlantId, sms::SmsBody};

use super::{
    outbox::{SmsLogError, SmsOutbox},
    ports::{ReminderQueue, ReminderTexts},
};
use crate::{
    chat::{ChatError, Conversations},
    failure::Failure,
    flags::{FeatureFlags, Flag},
    plants::Owner,
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
    /// Sends what was claimed.
    pub outbox: SmsOutbox,
    /// The `sms_reminders` switch.
    pub flags: Arc<dyn FeatureFlags>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ReminderPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReminderPorts").finish_non_exhaustive()
    }
}

/// The schedule or the SMS log could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the reminder schedule could not be read")]
pub struct ReminderError(#[from] StoreError);

impl From<SmsLogError> for ReminderError {
    fn from(error: SmsLogError) -> Self {
        Self(error.0)
    }
}

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

    /// Claims every plant whose reminder is due (unless the `sms_reminders` flag is off): each
    /// is rescheduled and its text queued in the outbox in one transaction, so no plant is
    /// reminded twice and none is lost to a crash. Then sends what is pending. Returns how many
    /// texts this worker sent (or tried to).
    ///
    /// # Errors
    /// [`ReminderError`] when due plants cannot be claimed or the outbox read; a reminder that
    /// fails by itself is logged and the others go on.
    #[tracing::instrument(name = "reminders.send_due", skip_all, fields(claimed, sent))]
    pub async fn send_due(&self) -> Result<usize, ReminderError> {
        let mut claimed = 0;
        if self.ports.flags.is_enabled(Flag::SmsReminders) {
            while !self.ports.outbox.is_stopping() {
                let taken = self
                    .ports
                    .queue
                    .claim_due(
                        self.ports.clock.now(),
                        CLAIM_BATCH,
                        self.ports.outbox.sender_number(),
                    )
                    .await?;
                claimed += taken;
                if taken < CLAIM_BATCH {
                    break;
                }
            }
        }
        let sent = self.ports.outbox.send_pending().await?;
        tracing::Span::current().record("claimed", claimed);
        tracing::Span::current().record("sent", sent);
        Ok(sent)
    }
}

#[async_trait]
impl ReminderTexts for Conversations {
    async fn write_reminder(
        &self,
        owner: Owner,
        plant: UserPlantId,
    ) -> Result<Option<SmsBody>, Failure> {
        match self.reminder(owner, plant).await {
            Ok(message) => Ok(SmsBody::shortened(&format!(
                "{}: {}",
                message.nickname, message.text
            ))),
            Err(ChatError::PlantNotFound) => Ok(None),
            Err(ChatError::Failed(failure)) => Err(failure),
        }
    }
}
