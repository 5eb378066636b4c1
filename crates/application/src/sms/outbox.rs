//! Sending texts through a crash-proof outbox (SPEC §6.1). Every text is a `pending` row of the
//! SMS log before the provider is called; workers send pending rows under a lease that another
//! worker takes over when its holder dies; the attempt is noted before the provider is called,
//! so a row taken over after that point, or whose answer was lost, becomes `unknown` and is
//! settled by a delivery report or a lookup at the provider — never sent blindly a second time.
//! Failed sends are retried on a schedule; delivery reports move a row forward only.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::{
    identity::UserId,
    phone::PhoneNumber,
    sms::{
        RetrySchedule, SmsBody, SmsLogId, SmsPurpose, SmsStatus,
        outbox::{LOOKUP_AFTER, NOT_FOUND_AFTER, SEND_LEASE},
        verification::CODE_LIFETIME,
    },
};

use super::ports::{
    Lease, LeasedSms, OutgoingSms, PendingSms, ReminderTexts, SendOutcome, SendSmsError,
    SmsAccounts, SmsLog, SmsSender, StatusChange, UnsettledSms,
};
use tracing::Instrument as _;

use crate::{
    metrics::Metrics,
    plants::Owner,
    store::StoreError,
    system::{Clock, IdGenerator, StopSignal},
};

/// How many pending rows one lease takes; small, so that a worker told to stop leaves few rows
/// held until their lease runs out.
const LEASE_BATCH: u64 = 10;

/// How many unknown outcomes one settling pass looks up at most.
const SETTLE_BATCH: u64 = 100;

/// The daily caps on outbound texts, over a rolling 24 hours (SPEC §6.1): per account and per
/// number (`SMS_DAILY_LIMIT_PER_USER`), and for the platform (`SMS_DAILY_LIMIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsCaps {
    /// Texts per account and per number.
    pub per_recipient: u64,
    /// Texts of the whole platform.
    pub platform: u64,
}

/// The error code a text over a cap is logged with.
pub const CAP_ERROR_CODE: &str = "cap";

/// The error code of a text its recipient may no longer get (opted out, number changed or not
/// verified, account gone) or that has nothing left to say (its plant is gone).
pub const RECIPIENT_ERROR_CODE: &str = "recipient";

/// The error code of a verification code whose retry came after the code's lifetime.
pub const EXPIRED_ERROR_CODE: &str = "expired";

/// The error code of a text the provider, asked after an unknown outcome, never took.
pub const NOT_FOUND_ERROR_CODE: &str = "not_found";

/// Everything the outbox needs, wired by the server.
#[derive(Clone)]
pub struct SmsOutboxPorts {
    /// The provider (or demo mode).
    pub sender: Arc<dyn SmsSender>,
    /// The SMS log.
    pub log: Arc<dyn SmsLog>,
    /// The recipients' accounts, read again just before each send.
    pub accounts: Arc<dyn SmsAccounts>,
    /// Writes a reminder's text when it is sent.
    pub reminder_texts: Arc<dyn ReminderTexts>,
    /// Where the provider reports delivery; `None` when no public URL is configured.
    pub status_callback: Option<String>,
    /// The daily caps.
    pub caps: SmsCaps,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    /// Raised at shutdown: the workers stop after their current item.
    pub stop: StopSignal,
}

impl std::fmt::Debug for SmsOutboxPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsOutboxPorts").finish_non_exhaustive()
    }
}

/// The SMS log could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("the SMS log failed")]
pub struct SmsLogError(#[from] pub StoreError);

/// Outgoing texts.
#[derive(Clone)]
pub struct SmsOutbox {
    ports: SmsOutboxPorts,
    metrics: Metrics,
}

impl std::fmt::Debug for SmsOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsOutbox").finish_non_exhaustive()
    }
}

impl SmsOutbox {
    /// The outbox over `ports`.
    #[must_use]
    pub fn new(ports: SmsOutboxPorts) -> Self {
        Self {
            ports,
            metrics: Metrics::default(),
        }
    }

    /// The outbox, counting the statuses its messages reach into `metrics`.
    #[must_use]
    pub fn recording_into(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The number texts are sent from, as the SMS log records it.
    #[must_use]
    pub fn sender_number(&self) -> &str {
        self.ports.sender.sender_number()
    }

    /// Whether the service is stopping: workers end after their current item.
    #[must_use]
    pub fn is_stopping(&self) -> bool {
        self.ports.stop.is_raised()
    }

    fn new_lease(&self, now: DateTime<Utc>) -> Lease {
        Lease {
            token: self.ports.ids.new_id(),
            until: now + SEND_LEASE,
        }
    }

    /// Logs `body` for `to` as `pending` and sends it at once under this caller's lease; a crash
    /// in between leaves the row to a worker once the lease runs out. A failure the provider may
    /// recover from is scheduled for a retry.
    ///
    /// # Errors
    /// [`SmsLogError`] when the log cannot be written; a failed send is not an error but the
    /// returned status `failed`.
    #[tracing::instrument(name = "sms.send", skip_all, fields(to = %to.masked(), purpose = purpose.as_str(), status))]
    pub async fn send(
        &self,
        owner: Option<Owner>,
        to: PhoneNumber,
        body: SmsBody,
        purpose: SmsPurpose,
    ) -> Result<SmsStatus, SmsLogError> {
        let now = self.ports.clock.now();
        let lease = self.new_lease(now);
        let id = SmsLogId::from_uuid(self.ports.ids.new_id());
        self.ports
            .log
            .record_pending(&PendingSms {
                id,
                owner,
                to: to.clone(),
                from: self.ports.sender.sender_number().to_owned(),
                purpose,
                body: body.clone(),
                created_at: now,
                lease,
            })
            .await?;
        let status = self
            .deliver(LeasedSms {
                id,
                owner,
                to,
                purpose,
                plant: None,
                body: Some(body),
                attempted_at: None,
                created_at: now,
                retry_count: 0,
                lease,
            })
            .await?;
        tracing::Span::current().record("status", status.as_str());
        Ok(status)
    }

    /// Sends every pending row nobody holds (or whose holder's lease ran out), a few at a time
    /// under a lease, until none is left or the service is stopping. Returns how many rows were
    /// worked (sent, failed, refused or found unknown).
    ///
    /// # Errors
    /// [`SmsLogError`] when the log cannot be read or written.
    #[tracing::instrument(name = "sms.send_pending", skip_all, fields(worked))]
    pub async fn send_pending(&self) -> Result<usize, SmsLogError> {
        let mut worked = 0;
        'leases: while !self.is_stopping() {
            let now = self.ports.clock.now();
            let leased = self
                .ports
                .log
                .lease_pending(now, self.new_lease(now), LEASE_BATCH)
                .await?;
            let count = leased.len();
            for sms in leased {
                // What is left stays held until the lease runs out, then goes to another worker.
                if self.is_stopping() {
                    break 'leases;
                }
                // Each message is its own trace: one slow send is found without its batch.
                let item = tracing::info_span!(parent: None, "sms.outbox_item");
                if self.deliver(sms).instrument(item).await? != SmsStatus::Pending {
                    worked += 1;
                }
            }
            if u64::try_from(count).unwrap_or(u64::MAX) < LEASE_BATCH {
                break;
            }
        }
        tracing::Span::current().record("worked", worked);
        Ok(worked)
    }

    /// Makes the failed messages whose retry is due pending again (one more retry counted) and
    /// sends what is pending. Returns how many were requeued.
    ///
    /// # Errors
    /// [`SmsLogError`] when the log cannot be read or written.
    #[tracing::instrument(name = "sms.retry_due", skip_all, fields(retried))]
    pub async fn retry_due(&self) -> Result<u64, SmsLogError> {
        let retried = self
            .ports
            .log
            .requeue_due_retries(self.ports.clock.now())
            .await?;
        tracing::Span::current().record("retried", retried);
        self.send_pending().await?;
        Ok(retried)
    }

    /// Looks up at the provider the sends whose outcome is unknown (a minute after the attempt,
    /// so that the provider lists what it took): a message found settles the row with the
    /// provider's id and status; none found 30 minutes after the attempt means the provider never
    /// took it, and the row fails with a retry due. Returns how many rows were settled.
    ///
    /// # Errors
    /// [`SmsLogError`] when the log cannot be read or written; a provider that cannot be asked
    /// leaves its rows for the next pass.
    #[tracing::instrument(name = "sms.settle_unknown", skip_all, fields(settled))]
    pub async fn settle_unknown(&self) -> Result<usize, SmsLogError> {
        let now = self.ports.clock.now();
        let unsettled = self
            .ports
            .log
            .unsettled(now - LOOKUP_AFTER, SETTLE_BATCH)
            .await?;
        let mut settled = 0;
        for sms in unsettled {
            if self.is_stopping() {
                break;
            }
            let Some(outcome) = self.look_up(&sms, now).await? else {
                continue;
            };
            if self.ports.log.settle(sms.id, &outcome).await? {
                settled += 1;
                // Counted like any other send: a lost answer must not hide a failure from the
                // alerts on sms_messages_total.
                match &outcome {
                    SendOutcome::Accepted { status, .. } => self.metrics.record_sms(*status),
                    SendOutcome::Failed { .. } => self.metrics.record_sms(SmsStatus::Failed),
                    SendOutcome::Unknown { .. } => {}
                }
            }
        }
        tracing::Span::current().record("settled", settled);
        Ok(settled)
    }

    /// What the provider says of an unknown send; `None` while it cannot tell yet.
    async fn look_up(
        &self,
        sms: &UnsettledSms,
        now: DateTime<Utc>,
    ) -> Result<Option<SendOutcome>, SmsLogError> {
        let found = match self
            .ports
            .sender
            .find_sent(&sms.to, &sms.body, sms.attempted_at)
            .await
        {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "the provider could not be asked about an unknown send");
                return Ok(None);
            }
        };
        // The same text may have gone to the same number before: a message another row already
        // holds is not this one.
        for candidate in found {
            let Some(provider_message_id) = candidate.provider_message_id else {
                continue;
            };
            if self
                .ports
                .log
                .find_by_provider_id(&provider_message_id)
                .await?
                .is_none()
            {
                return Ok(Some(SendOutcome::Accepted {
                    status: candidate.status,
                    provider_message_id: Some(provider_message_id),
                    at: sms.attempted_at,
                }));
            }
        }
        if sms.attempted_at > now - NOT_FOUND_AFTER {
            return Ok(None);
        }
        Ok(Some(SendOutcome::Failed {
            code: Some(NOT_FOUND_ERROR_CODE.to_owned()),
            message: "the provider never took the message".to_owned(),
            at: now,
            next_retry_at: RetrySchedule::next_attempt(sms.retry_count, now),
        }))
    }

    /// Applies the provider's delivery report for `provider_message_id`: the entry moves to
    /// `status` only when that is forward (`queued` -> `sent` -> `delivered`, `undelivered` or
    /// `failed`); anything else, and an unknown id, changes nothing. A report about an entry
    /// whose send had an unknown outcome (`entry`, named by the callback address) settles it.
    /// Returns whether it moved.
    ///
    /// # Errors
    /// [`SmsLogError`] when the log cannot be read or written.
    #[tracing::instrument(name = "sms.delivery_report", skip_all, fields(status = status.as_str(), moved))]
    pub async fn apply_delivery_report(
        &self,
        provider_message_id: &str,
        entry: Option<SmsLogId>,
        status: SmsStatus,
        error_code: Option<String>,
    ) -> Result<bool, SmsLogError> {
        let moved = self
            .move_forward(provider_message_id, entry, status, error_code)
            .await?;
        tracing::Span::current().record("moved", moved);
        Ok(moved)
    }

    async fn move_forward(
        &self,
        provider_message_id: &str,
        entry: Option<SmsLogId>,
        status: SmsStatus,
        error_code: Option<String>,
    ) -> Result<bool, SmsLogError> {
        let mut settled = false;
        // A concurrent report may move the entry between the read and the write; read again.
        for _ in 0..3 {
            let Some((id, current)) = self
                .ports
                .log
                .find_by_provider_id(provider_message_id)
                .await?
            else {
                // An entry whose send had an unknown outcome learns its id first (as queued),
                // then the report applies like any other, error code included.
                if let Some(entry) = entry.filter(|_| !settled) {
                    let learned = SendOutcome::Accepted {
                        status: SmsStatus::Queued,
                        provider_message_id: Some(provider_message_id.to_owned()),
                        at: self.ports.clock.now(),
                    };
                    settled = self.ports.log.settle(entry, &learned).await?;
                    if settled {
                        continue;
                    }
                }
                return Ok(false);
            };
            if !current.may_move_to(status) {
                return Ok(settled);
            }
            let change = StatusChange {
                from: current,
                to: status,
                error_code: error_code.clone(),
                at: self.ports.clock.now(),
            };
            if self.ports.log.change_status(id, &change).await? {
                self.metrics.record_sms(status);
                return Ok(true);
            }
        }
        Ok(settled)
    }

    /// Whether one more text to `to` (and `account`) stays within the daily caps.
    async fn within_caps(
        &self,
        account: Option<UserId>,
        to: &PhoneNumber,
    ) -> Result<bool, SmsLogError> {
        let since = self.ports.clock.now() - chrono::TimeDelta::hours(24);
        let sent = self.ports.log.sent_since(account, to, since).await?;
        let caps = self.ports.caps;
        Ok(sent.to_account < caps.per_recipient
            && sent.to_number < caps.per_recipient
            && sent.platform < caps.platform)
    }

    /// Ends a held row as failed for good, unsent.
    async fn refuse(
        &self,
        sms: &LeasedSms,
        code: &str,
        message: &str,
    ) -> Result<SmsStatus, SmsLogError> {
        let outcome = SendOutcome::Failed {
            code: Some(code.to_owned()),
            message: message.to_owned(),
            at: self.ports.clock.now(),
            next_retry_at: None,
        };
        self.ports
            .log
            .record_outcome(sms.id, sms.lease, &outcome)
            .await?;
        Ok(SmsStatus::Failed)
    }

    /// The text of a held row: stored, or for a reminder written now (and stored, so that a
    /// takeover sends the same words). `Err(status)` ends the row's turn with that status.
    async fn text_of(&self, sms: &LeasedSms) -> Result<Result<SmsBody, SmsStatus>, SmsLogError> {
        if let Some(body) = &sms.body {
            return Ok(Ok(body.clone()));
        }
        let (Some(owner), Some(plant)) = (sms.owner, sms.plant) else {
            return self
                .refuse(sms, RECIPIENT_ERROR_CODE, "the message has no text")
                .await
                .map(Err);
        };
        let body = match self.ports.reminder_texts.write_reminder(owner, plant).await {
            Ok(Some(body)) => body,
            Ok(None) => {
                return self
                    .refuse(sms, RECIPIENT_ERROR_CODE, "the plant is gone")
                    .await
                    .map(Err);
            }
            Err(error) => {
                // Left held: another pass takes it over once the lease runs out.
                tracing::error!(%error, plant_id = %plant, "reminder not written");
                return Ok(Err(SmsStatus::Pending));
            }
        };
        if self.ports.log.write_body(sms.id, sms.lease, &body).await? {
            Ok(Ok(body))
        } else {
            Ok(Err(SmsStatus::Pending))
        }
    }

    /// Sends one held row: its recipient checked again, its text written if need be, the caps
    /// checked, the attempt noted, then the provider called and the outcome recorded. Returns
    /// the row's new status (`pending` when the hold was lost or the text could not be written).
    #[tracing::instrument(name = "sms.deliver", skip_all, fields(sms_id = %sms.id, status))]
    async fn deliver(&self, sms: LeasedSms) -> Result<SmsStatus, SmsLogError> {
        let status = self.deliver_held(&sms).await?;
        tracing::Span::current().record("status", status.as_str());
        if status != SmsStatus::Pending {
            self.metrics.record_sms(status);
        }
        Ok(status)
    }

    async fn deliver_held(&self, sms: &LeasedSms) -> Result<SmsStatus, SmsLogError> {
        if let Some(attempted_at) = sms.attempted_at {
            // The previous holder called the provider and died before writing the answer: the
            // message may be out, so it is looked up, not sent again.
            let outcome = SendOutcome::Unknown {
                message: "the sender stopped during the attempt".to_owned(),
                at: attempted_at,
            };
            self.ports
                .log
                .record_outcome(sms.id, sms.lease, &outcome)
                .await?;
            return Ok(SmsStatus::Unknown);
        }
        if let Some(owner) = sms.owner {
            let recipient = self.ports.accounts.recipient(owner.user_id).await?;
            if let Some(reason) = sms.purpose.refusal(recipient.as_ref(), &sms.to) {
                tracing::info!(reason, "text not sent");
                return self.refuse(sms, RECIPIENT_ERROR_CODE, reason).await;
            }
        }
        if sms.purpose == SmsPurpose::Verification
            && self.ports.clock.now() - sms.created_at >= CODE_LIFETIME
        {
            // A retried code that would arrive dead only confuses its reader.
            return self
                .refuse(
                    sms,
                    EXPIRED_ERROR_CODE,
                    "the code expired before it could be sent",
                )
                .await;
        }
        // Before the text is written: a reminder over the cap leaves no message in the plant's
        // conversation.
        if !self
            .within_caps(sms.owner.map(|owner| owner.user_id), &sms.to)
            .await?
        {
            tracing::warn!(to = %sms.to.masked(), "daily SMS cap reached; not sent");
            return self
                .refuse(sms, CAP_ERROR_CODE, "the daily SMS cap is reached")
                .await;
        }
        let body = match self.text_of(sms).await? {
            Ok(body) => body,
            Err(status) => return Ok(status),
        };
        if !self
            .ports
            .log
            .mark_attempt(sms.id, sms.lease, self.ports.clock.now())
            .await?
        {
            return Ok(SmsStatus::Pending);
        }
        let outgoing = OutgoingSms {
            to: sms.to.clone(),
            body,
            status_callback: self
                .ports
                .status_callback
                .as_ref()
                .map(|callback| format!("{callback}?sms_id={}", sms.id)),
        };
        let result = self.ports.sender.send(&outgoing).await;
        let (outcome, status) = self.outcome_of(result, sms.retry_count);
        self.ports
            .log
            .record_outcome(sms.id, sms.lease, &outcome)
            .await?;
        Ok(status)
    }

    fn outcome_of(
        &self,
        result: Result<super::ports::SentSms, SendSmsError>,
        retries_so_far: u32,
    ) -> (SendOutcome, SmsStatus) {
        let at = self.ports.clock.now();
        match result {
            Ok(sent) => (
                SendOutcome::Accepted {
                    status: sent.status,
                    provider_message_id: sent.provider_message_id,
                    at,
                },
                sent.status,
            ),
            Err(SendSmsError::Unknown(message)) => {
                tracing::warn!(%message, "SMS outcome unknown; it will be looked up");
                (SendOutcome::Unknown { message, at }, SmsStatus::Unknown)
            }
            Err(error) => {
                tracing::warn!(%error, retries_so_far, "SMS not sent");
                let (code, message, next_retry_at) = match error {
                    SendSmsError::Rejected { code, message } => (code, message, None),
                    SendSmsError::Unavailable(message) | SendSmsError::Unknown(message) => (
                        None,
                        message,
                        RetrySchedule::next_attempt(retries_so_far, at),
                    ),
                };
                (
                    SendOutcome::Failed {
                        code,
                        message,
                        at,
                        next_retry_at,
                    },
                    SmsStatus::Failed,
                )
            }
        }
    }
}
