//! Sending texts with a complete log: `pending` before the provider is called, then the outcome;
//! failed sends retried on a schedule; delivery reports applied forward only.

use std::sync::Arc;

use domain::{
    identity::UserId,
    phone::PhoneNumber,
    sms::{RetrySchedule, SmsBody, SmsLogId, SmsStatus},
};

use super::ports::{
    OutgoingSms, PendingSms, SendOutcome, SendSmsError, SmsLog, SmsSender, StatusChange,
};
use crate::{
    plants::Owner,
    store::StoreError,
    system::{Clock, IdGenerator},
};

/// How many failed messages one retry pass takes at most.
const RETRY_BATCH: u64 = 100;

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

/// Everything the outbox needs, wired by the server.
#[derive(Clone)]
pub struct SmsOutboxPorts {
    /// The provider (or demo mode).
    pub sender: Arc<dyn SmsSender>,
    /// The SMS log.
    pub log: Arc<dyn SmsLog>,
    /// Where the provider reports delivery; `None` when no public URL is configured.
    pub status_callback: Option<String>,
    /// The daily caps.
    pub caps: SmsCaps,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// New ids.
    pub ids: Arc<dyn IdGenerator>,
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
}

impl std::fmt::Debug for SmsOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsOutbox").finish_non_exhaustive()
    }
}

impl SmsOutbox {
    /// The outbox over `ports`.
    #[must_use]
    pub const fn new(ports: SmsOutboxPorts) -> Self {
        Self { ports }
    }

    /// Logs `body` for `to` as `pending`, hands it to the provider and logs the outcome. A
    /// failure the provider may recover from is scheduled for a retry.
    ///
    /// # Errors
    /// [`SmsLogError`] when the log cannot be written; a failed send is not an error but the
    /// returned status `failed`.
    #[tracing::instrument(name = "sms.send", skip_all, fields(to = %to.masked(), status))]
    pub async fn send(
        &self,
        owner: Option<Owner>,
        to: PhoneNumber,
        body: SmsBody,
    ) -> Result<SmsStatus, SmsLogError> {
        let id = SmsLogId::from_uuid(self.ports.ids.new_id());
        self.ports
            .log
            .record_pending(&PendingSms {
                id,
                owner,
                to: to.clone(),
                from: self.ports.sender.sender_number().to_owned(),
                body: body.clone(),
                created_at: self.ports.clock.now(),
            })
            .await?;
        let account = owner.map(|owner| owner.user_id);
        let status = self.attempt(id, account, to, body, 0).await?;
        tracing::Span::current().record("status", status.as_str());
        Ok(status)
    }

    /// Sends again the failed messages whose retry is due, each claimed first so that two
    /// workers never send one twice. Returns how many were tried.
    ///
    /// # Errors
    /// [`SmsLogError`] when the log cannot be read or written.
    #[tracing::instrument(name = "sms.retry_due", skip_all, fields(retried))]
    pub async fn retry_due(&self) -> Result<usize, SmsLogError> {
        let due = self
            .ports
            .log
            .due_for_retry(self.ports.clock.now(), RETRY_BATCH)
            .await?;
        let mut retried = 0;
        for sms in due {
            let claimed = self
                .ports
                .log
                .claim_retry(sms.id, sms.retry_count, self.ports.clock.now())
                .await?;
            if claimed {
                self.attempt(sms.id, sms.account, sms.to, sms.body, sms.retry_count + 1)
                    .await?;
                retried += 1;
            }
        }
        tracing::Span::current().record("retried", retried);
        Ok(retried)
    }

    /// Applies the provider's delivery report for `provider_message_id`: the entry moves to
    /// `status` only when that is forward (`queued` -> `sent` -> `delivered`, `undelivered` or
    /// `failed`); anything else, and an unknown id, changes nothing. Returns whether it moved.
    ///
    /// # Errors
    /// [`SmsLogError`] when the log cannot be read or written.
    #[tracing::instrument(name = "sms.delivery_report", skip_all, fields(status = status.as_str(), moved))]
    pub async fn apply_delivery_report(
        &self,
        provider_message_id: &str,
        status: SmsStatus,
        error_code: Option<String>,
    ) -> Result<bool, SmsLogError> {
        // A concurrent report may move the entry between the read and the write; read again.
        for _ in 0..3 {
            let Some((id, current)) = self
                .ports
                .log
                .find_by_provider_id(provider_message_id)
                .await?
            else {
                tracing::Span::current().record("moved", false);
                return Ok(false);
            };
            if !current.may_move_to(status) {
                tracing::Span::current().record("moved", false);
                return Ok(false);
            }
            let change = StatusChange {
                from: current,
                to: status,
                error_code: error_code.clone(),
                at: self.ports.clock.now(),
            };
            if self.ports.log.change_status(id, &change).await? {
                tracing::Span::current().record("moved", true);
                return Ok(true);
            }
        }
        Ok(false)
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

    async fn attempt(
        &self,
        id: SmsLogId,
        account: Option<UserId>,
        to: PhoneNumber,
        body: SmsBody,
        retries_so_far: u32,
    ) -> Result<SmsStatus, SmsLogError> {
        if !self.within_caps(account, &to).await? {
            tracing::warn!(to = %to.masked(), "daily SMS cap reached; not sent");
            let outcome = SendOutcome::Failed {
                code: Some(CAP_ERROR_CODE.to_owned()),
                message: "the daily SMS cap is reached".to_owned(),
                at: self.ports.clock.now(),
                next_retry_at: None,
            };
            self.ports.log.record_outcome(id, &outcome).await?;
            return Ok(SmsStatus::Failed);
        }
        let sms = OutgoingSms {
            to,
            body,
            status_callback: self.ports.status_callback.clone(),
        };
        let result = self.ports.sender.send(&sms).await;
        let at = self.ports.clock.now();
        let (outcome, status) = match result {
            Ok(sent) => (
                SendOutcome::Accepted {
                    status: sent.status,
                    provider_message_id: sent.provider_message_id,
                    at,
                },
                sent.status,
            ),
            Err(error) => {
                tracing::warn!(%error, retries_so_far, "SMS not sent");
                let (code, message, next_retry_at) = match error {
                    SendSmsError::Rejected { code, message } => (code, message, None),
                    SendSmsError::Unavailable(message) => (
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
        };
        self.ports.log.record_outcome(id, &outcome).await?;
        Ok(status)
    }
}
