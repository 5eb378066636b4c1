//! Fakes of the SMS channel's ports: a scripted provider, the SMS log (with the administrator's
//! queries over it), inbound deduplication, accounts by phone number, the reminder schedule,
//! verification codes, reminder texts and webhook signatures — in memory, with the leases,
//! compare-and-set updates and claims the database adapters promise.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use domain::{
    identity::UserId,
    phone::PhoneNumber,
    plants::{UserPlantId, next_watering},
    sms::{
        Recipient, RetrySchedule, SmsBody, SmsLogId, SmsPurpose, SmsStatus,
        outbox::SEND_LEASE,
        verification::{VerificationCode, redact_verification_code},
    },
};
use uuid::Uuid;

use super::{
    Outage, lock,
    plants::{InMemoryUserPlants, keyset_page, refused},
};
use crate::{
    admin::ports::{SmsLogEntry, SmsLogFilter, SmsLogQueries},
    failure::Failure,
    paging::{Page, PageRequest},
    plants::Owner,
    sms::{
        OutgoingSms, SendSmsError, SentSms, SignatureVerifier, SmsSender,
        ports::{
            CodeCheck, InboundClaim, InboundSmsLog, Lease, LeasedSms, NewVerification, PendingSms,
            ReminderQueue, ReminderTexts, SendOutcome, SentCounts, SmsAccount, SmsAccounts, SmsLog,
            StatusChange, UnsettledSms, VerificationCodes,
        },
    },
    store::StoreError,
    system::IdGenerator,
};

// --- The provider -------------------------------------------------------------------------

/// What the fake provider does with the next message handed to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendScript {
    /// Takes it, answering this.
    Accept(SentSms),
    /// Refuses it for good ([`SendSmsError::Rejected`]).
    Reject {
        /// The provider's error code.
        code: Option<String>,
        /// Its explanation.
        message: String,
    },
    /// Cannot be reached ([`SendSmsError::Unavailable`]); the message is not taken.
    Unavailable(String),
    /// Loses its answer ([`SendSmsError::Unknown`]); `taken` says whether it did take the
    /// message, which a later `find_sent` then finds.
    Unknown {
        /// What went wrong.
        message: String,
        /// What the provider holds, when it took the message.
        taken: Option<SentSms>,
    },
}

/// A message the fake provider holds, which `find_sent` can find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldSms {
    /// The recipient.
    pub to: PhoneNumber,
    /// The text.
    pub body: SmsBody,
    /// When the provider sent it; `None` (messages taken through `send`, the fake having no
    /// clock) matches any day.
    pub sent_at: Option<DateTime<Utc>>,
    /// Its id and status at the provider.
    pub sms: SentSms,
}

/// A `find_sent` call the fake provider received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The recipient asked about.
    pub to: PhoneNumber,
    /// The text asked about.
    pub body: SmsBody,
    /// The attempt's moment.
    pub attempted_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct Provider {
    script: VecDeque<SendScript>,
    lookup_failures: VecDeque<SendSmsError>,
    sent: Vec<OutgoingSms>,
    held: Vec<HeldSms>,
    lookups: Vec<Lookup>,
    next_sid: u64,
}

/// A scripted [`SmsSender`]: records every message handed to it, answers from a queue of
/// [`SendScript`]s, then — when the queue is empty — takes every message as `queued` with a
/// fresh `SM...` id (or, in demo mode, as `demo` without an id). `find_sent` finds what the
/// provider holds for the number and text, sent on or after the attempt's day. Clones share the
/// script and the records.
#[derive(Debug, Clone)]
pub struct FakeSmsSender {
    number: String,
    demo: bool,
    provider: Arc<Mutex<Provider>>,
}

/// The number the fake provider sends from by default (Twilio's test "from" number).
pub const FAKE_SENDER_NUMBER: &str = "+15005550006";

impl Default for FakeSmsSender {
    fn default() -> Self {
        Self::new(FAKE_SENDER_NUMBER)
    }
}

impl FakeSmsSender {
    /// A provider sending from `number`.
    #[must_use]
    pub fn new(number: &str) -> Self {
        Self {
            number: number.to_owned(),
            demo: false,
            provider: Arc::default(),
        }
    }

    /// Demo mode, like the adapter without credentials: sends from `demo`, answers `demo`
    /// without an id, and finds nothing.
    #[must_use]
    pub fn demo() -> Self {
        Self {
            number: "demo".to_owned(),
            demo: true,
            provider: Arc::default(),
        }
    }

    /// Queues what the provider does with a coming message.
    pub fn push(&self, script: SendScript) {
        lock(&self.provider).script.push_back(script);
    }

    /// Makes the next `find_sent` fail with `error`.
    pub fn fail_next_lookup(&self, error: SendSmsError) {
        lock(&self.provider).lookup_failures.push_back(error);
    }

    /// Seeds a message the provider holds, for `find_sent` to find.
    pub fn hold(&self, held: HeldSms) {
        lock(&self.provider).held.push(held);
    }

    /// Every message handed to `send`, whatever became of it, in order.
    #[must_use]
    pub fn sent(&self) -> Vec<OutgoingSms> {
        lock(&self.provider).sent.clone()
    }

    /// What the provider holds: the messages it took, and those seeded with [`Self::hold`].
    #[must_use]
    pub fn held(&self) -> Vec<HeldSms> {
        lock(&self.provider).held.clone()
    }

    /// Every `find_sent` call, in order.
    #[must_use]
    pub fn lookups(&self) -> Vec<Lookup> {
        lock(&self.provider).lookups.clone()
    }
}

#[async_trait]
impl SmsSender for FakeSmsSender {
    fn sender_number(&self) -> &str {
        &self.number
    }

    async fn send(&self, sms: &OutgoingSms) -> Result<SentSms, SendSmsError> {
        let mut provider = lock(&self.provider);
        provider.sent.push(sms.clone());
        let script = match provider.script.pop_front() {
            Some(script) => script,
            None if self.demo => SendScript::Accept(SentSms {
                provider_message_id: None,
                status: SmsStatus::Demo,
            }),
            None => {
                provider.next_sid += 1;
                SendScript::Accept(SentSms {
                    provider_message_id: Some(format!("SM{:032x}", provider.next_sid)),
                    status: SmsStatus::Queued,
                })
            }
        };
        let hold = |provider: &mut Provider, taken: &SentSms| {
            if !self.demo {
                provider.held.push(HeldSms {
                    to: sms.to.clone(),
                    body: sms.body.clone(),
                    sent_at: None,
                    sms: taken.clone(),
                });
            }
        };
        match script {
            SendScript::Accept(taken) => {
                hold(&mut provider, &taken);
                Ok(taken)
            }
            SendScript::Reject { code, message } => Err(SendSmsError::Rejected { code, message }),
            SendScript::Unavailable(message) => Err(SendSmsError::Unavailable(message)),
            SendScript::Unknown { message, taken } => {
                if let Some(taken) = taken {
                    hold(&mut provider, &taken);
                }
                Err(SendSmsError::Unknown(message))
            }
        }
    }

    async fn find_sent(
        &self,
        to: &PhoneNumber,
        body: &SmsBody,
        attempted_at: DateTime<Utc>,
    ) -> Result<Vec<SentSms>, SendSmsError> {
        let mut provider = lock(&self.provider);
        provider.lookups.push(Lookup {
            to: to.clone(),
            body: body.clone(),
            attempted_at,
        });
        if let Some(error) = provider.lookup_failures.pop_front() {
            return Err(error);
        }
        if self.demo {
            return Ok(Vec::new());
        }
        let day = attempted_at.date_naive();
        Ok(provider
            .held
            .iter()
            .rev() // the provider lists newest first
            .filter(|held| &held.to == to && &held.body == body)
            .filter(|held| held.sent_at.is_none_or(|at| at.date_naive() >= day))
            .map(|held| held.sms.clone())
            .collect())
    }
}

// --- The SMS log --------------------------------------------------------------------------

/// One row of the fake SMS log, every column the adapter writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsLogRecord {
    /// The entry's id.
    pub id: SmsLogId,
    /// The recipient's account, when a user.
    pub owner: Option<Owner>,
    /// The recipient.
    pub to: PhoneNumber,
    /// The sending number.
    pub from: String,
    /// The text; `None` while a reminder's text is unwritten (or once retention emptied it).
    pub body: Option<SmsBody>,
    /// Why it is sent.
    pub purpose: SmsPurpose,
    /// The plant a reminder is about.
    pub plant: Option<UserPlantId>,
    /// Its status.
    pub status: SmsStatus,
    /// The provider's id of the message.
    pub provider_message_id: Option<String>,
    /// The provider's (or our) error code.
    pub error_code: Option<String>,
    /// What went wrong last.
    pub error_message: Option<String>,
    /// Retries made.
    pub retry_count: u32,
    /// When it was last requeued.
    pub last_retry_at: Option<DateTime<Utc>>,
    /// When the provider took it.
    pub sent_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it failed.
    pub failed_at: Option<DateTime<Utc>>,
    /// When a failed send is due again.
    pub next_retry_at: Option<DateTime<Utc>>,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The worker's hold on it, while pending.
    pub lease: Option<Lease>,
    /// When a holder was about to call the provider with it.
    pub attempted_at: Option<DateTime<Utc>>,
}

impl SmsLogRecord {
    /// A `pending` entry nobody holds, without a text, sent from `demo`: a seed to adjust with
    /// struct-update syntax.
    #[must_use]
    pub fn pending(
        id: SmsLogId,
        to: PhoneNumber,
        purpose: SmsPurpose,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            owner: None,
            to,
            from: "demo".to_owned(),
            body: None,
            purpose,
            plant: None,
            status: SmsStatus::Pending,
            provider_message_id: None,
            error_code: None,
            error_message: None,
            retry_count: 0,
            last_retry_at: None,
            sent_at: None,
            delivered_at: None,
            failed_at: None,
            next_retry_at: None,
            created_at,
            updated_at: created_at,
            lease: None,
            attempted_at: None,
        }
    }

    /// Whether `lease` holds this entry: pending, with that token (the hold's end is not looked
    /// at, as in the adapter).
    fn held_by(&self, lease: Lease) -> bool {
        self.status == SmsStatus::Pending
            && self.lease.is_some_and(|held| held.token == lease.token)
    }

    /// Writes the columns an outcome sets, and ends the hold.
    fn apply(&mut self, outcome: &SendOutcome) {
        match outcome {
            SendOutcome::Accepted {
                status,
                provider_message_id,
                at,
            } => {
                self.status = *status;
                self.provider_message_id.clone_from(provider_message_id);
                self.error_code = None;
                self.error_message = None;
                self.sent_at = Some(*at);
                if *status == SmsStatus::Delivered {
                    self.delivered_at = Some(*at);
                }
                self.next_retry_at = None;
                self.updated_at = *at;
            }
            SendOutcome::Unknown { message, at } => {
                self.status = SmsStatus::Unknown;
                self.error_message = Some(message.clone());
                self.updated_at = *at;
            }
            SendOutcome::Failed {
                code,
                message,
                at,
                next_retry_at,
            } => {
                self.status = SmsStatus::Failed;
                self.error_code.clone_from(code);
                self.error_message = Some(message.clone());
                self.failed_at = Some(*at);
                self.next_retry_at = *next_retry_at;
                self.updated_at = *at;
            }
        }
        self.lease = None;
    }

    /// Whether it counts against the daily caps since `since`: handed to the provider then, or
    /// being sent, or with an unknown outcome, since.
    fn counts_since(&self, since: DateTime<Utc>) -> bool {
        self.sent_at.is_some_and(|at| at >= since)
            || (matches!(self.status, SmsStatus::Unknown | SmsStatus::Pending)
                && self.attempted_at.is_some_and(|at| at >= since))
    }

    fn leased(&self, lease: Lease) -> LeasedSms {
        LeasedSms {
            id: self.id,
            owner: self.owner,
            to: self.to.clone(),
            purpose: self.purpose,
            plant: self.plant,
            body: self.body.clone(),
            attempted_at: self.attempted_at,
            created_at: self.created_at,
            retry_count: self.retry_count,
            lease,
        }
    }
}

/// In-memory [`SmsLog`] and [`SmsLogQueries`] over the same rows, as the adapter serves both:
/// pending entries go to one lease holder at a time, only the holder records their outcome,
/// retries and status changes are compare-and-set, and the administrator reads newest first
/// (by id) with numbers masked and verification codes hidden. Clones share the rows.
#[derive(Debug, Clone, Default)]
pub struct InMemorySmsLog {
    outage: Outage,
    rows: Arc<Mutex<Vec<SmsLogRecord>>>,
    interference: Interference,
}

impl InMemorySmsLog {
    /// An empty log, down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            rows: Arc::default(),
            interference: Interference::default(),
        }
    }

    /// Seeds an entry, bypassing the port (replacing one with the same id).
    pub fn insert(&self, record: SmsLogRecord) {
        let mut rows = lock(&self.rows);
        rows.retain(|row| row.id != record.id);
        rows.push(record);
    }

    /// Every entry, in the order logged.
    #[must_use]
    pub fn entries(&self) -> Vec<SmsLogRecord> {
        lock(&self.rows).clone()
    }

    /// The entry with this id.
    #[must_use]
    pub fn entry(&self, id: SmsLogId) -> Option<SmsLogRecord> {
        lock(&self.rows).iter().find(|row| row.id == id).cloned()
    }

    /// Changes the stored entry `id` with `change` (a test moving an entry by hand); `false`
    /// when there is none.
    pub fn modify(&self, id: SmsLogId, change: impl FnOnce(&mut SmsLogRecord)) -> bool {
        lock(&self.rows)
            .iter_mut()
            .find(|row| row.id == id)
            .map(change)
            .is_some()
    }

    /// Runs `hook` at the start of every later call of the [`SmsLog`] port that passes the
    /// outage check, with the call and the rows: how a test plays another worker acting between
    /// two steps of a use case (taking a hold over, moving a status), or a store going down
    /// half-way through one (a hook that begins the outage fails every call after this one). The
    /// rows are locked while it runs: the hook must not call the log itself. Replaces an earlier
    /// hook.
    pub fn interfere(&self, hook: impl FnMut(SmsLogCall, &mut Vec<SmsLogRecord>) + Send + 'static) {
        *lock(&self.interference.0) = Some(Box::new(hook));
    }

    /// Removes the hook of [`Self::interfere`].
    pub fn stop_interfering(&self) {
        *lock(&self.interference.0) = None;
    }

    /// The rows, once the outage check passed.
    fn up(&self) -> Result<std::sync::MutexGuard<'_, Vec<SmsLogRecord>>, StoreError> {
        self.outage.check()?;
        Ok(lock(&self.rows))
    }

    /// The rows for `call` of the port: the outage check passed, then the hook run.
    fn call(
        &self,
        call: SmsLogCall,
    ) -> Result<std::sync::MutexGuard<'_, Vec<SmsLogRecord>>, StoreError> {
        self.outage.check()?;
        let mut rows = lock(&self.rows);
        if let Some(hook) = lock(&self.interference.0).as_mut() {
            hook(call, &mut rows);
        }
        Ok(rows)
    }
}

/// A method of the [`SmsLog`] port, as [`InMemorySmsLog::interfere`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsLogCall {
    /// [`SmsLog::record_pending`].
    RecordPending,
    /// [`SmsLog::lease_pending`].
    LeasePending,
    /// [`SmsLog::write_body`].
    WriteBody,
    /// [`SmsLog::mark_attempt`].
    MarkAttempt,
    /// [`SmsLog::record_outcome`].
    RecordOutcome,
    /// [`SmsLog::sent_since`].
    SentSince,
    /// [`SmsLog::requeue_due_retries`].
    RequeueDueRetries,
    /// [`SmsLog::unsettled`].
    Unsettled,
    /// [`SmsLog::settle`].
    Settle,
    /// [`SmsLog::find_by_provider_id`].
    FindByProviderId,
    /// [`SmsLog::change_status`].
    ChangeStatus,
}

/// What runs at the start of each call of the port that passes the outage check (see
/// [`InMemorySmsLog::interfere`]).
type InterferenceHook = Box<dyn FnMut(SmsLogCall, &mut Vec<SmsLogRecord>) + Send>;

/// The hook of an [`InMemorySmsLog`], shared by its clones.
#[derive(Clone, Default)]
struct Interference(Arc<Mutex<Option<InterferenceHook>>>);

impl std::fmt::Debug for Interference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interference")
            .field("set", &lock(&self.0).is_some())
            .finish()
    }
}

fn count(rows: &[SmsLogRecord], keep: impl Fn(&SmsLogRecord) -> bool) -> u64 {
    u64::try_from(rows.iter().filter(|row| keep(row)).count()).unwrap_or(u64::MAX)
}

#[async_trait]
impl SmsLog for InMemorySmsLog {
    async fn record_pending(&self, sms: &PendingSms) -> Result<(), StoreError> {
        let mut rows = self.call(SmsLogCall::RecordPending)?;
        if rows.iter().any(|row| row.id == sms.id) {
            return Err(refused(format!("duplicate SMS log id {}", sms.id)));
        }
        rows.push(SmsLogRecord {
            owner: sms.owner,
            from: sms.from.clone(),
            body: Some(sms.body.clone()),
            lease: Some(sms.lease),
            ..SmsLogRecord::pending(sms.id, sms.to.clone(), sms.purpose, sms.created_at)
        });
        Ok(())
    }

    async fn lease_pending(
        &self,
        now: DateTime<Utc>,
        lease: Lease,
        limit: u64,
    ) -> Result<Vec<LeasedSms>, StoreError> {
        let mut rows = self.call(SmsLogCall::LeasePending)?;
        let mut free: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, row)| row.status == SmsStatus::Pending)
            .filter(|(_, row)| row.lease.is_none_or(|held| held.until <= now))
            .map(|(index, _)| index)
            .collect();
        free.sort_by_key(|index| rows.get(*index).map(|row| (row.created_at, row.id)));
        free.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        for index in free {
            if let Some(row) = rows.get_mut(index) {
                row.lease = Some(lease);
            }
        }
        let mut leased: Vec<&SmsLogRecord> = rows.iter().filter(|row| row.held_by(lease)).collect();
        leased.sort_by_key(|row| (row.created_at, row.id));
        Ok(leased.into_iter().map(|row| row.leased(lease)).collect())
    }

    async fn write_body(
        &self,
        id: SmsLogId,
        lease: Lease,
        body: &SmsBody,
    ) -> Result<bool, StoreError> {
        let mut rows = self.call(SmsLogCall::WriteBody)?;
        Ok(rows
            .iter_mut()
            .find(|row| row.id == id && row.held_by(lease))
            .map(|row| row.body = Some(body.clone()))
            .is_some())
    }

    async fn mark_attempt(
        &self,
        id: SmsLogId,
        lease: Lease,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut rows = self.call(SmsLogCall::MarkAttempt)?;
        Ok(rows
            .iter_mut()
            .find(|row| row.id == id && row.held_by(lease))
            .map(|row| {
                row.attempted_at = Some(at);
                // The hold is renewed for the call.
                row.lease = Some(Lease {
                    token: lease.token,
                    until: at + SEND_LEASE,
                });
                row.updated_at = at;
            })
            .is_some())
    }

    async fn record_outcome(
        &self,
        id: SmsLogId,
        lease: Lease,
        outcome: &SendOutcome,
    ) -> Result<bool, StoreError> {
        let mut rows = self.call(SmsLogCall::RecordOutcome)?;
        Ok(rows
            .iter_mut()
            .find(|row| row.id == id && row.held_by(lease))
            .map(|row| row.apply(outcome))
            .is_some())
    }

    async fn sent_since(
        &self,
        account: Option<UserId>,
        to: &PhoneNumber,
        since: DateTime<Utc>,
    ) -> Result<SentCounts, StoreError> {
        let rows = self.call(SmsLogCall::SentSince)?;
        let counted: Vec<SmsLogRecord> = rows
            .iter()
            .filter(|row| row.counts_since(since))
            .cloned()
            .collect();
        Ok(SentCounts {
            to_account: account.map_or(0, |account| {
                count(&counted, |row| {
                    row.owner.is_some_and(|owner| owner.user_id == account)
                })
            }),
            to_number: count(&counted, |row| &row.to == to),
            platform: count(&counted, |_| true),
        })
    }

    async fn requeue_due_retries(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut rows = self.call(SmsLogCall::RequeueDueRetries)?;
        let mut requeued = 0;
        for row in rows.iter_mut().filter(|row| {
            row.status == SmsStatus::Failed
                && row.next_retry_at.is_some_and(|due| due <= now)
                && row.retry_count < RetrySchedule::MAX_RETRIES
        }) {
            row.status = SmsStatus::Pending;
            row.retry_count += 1;
            row.last_retry_at = Some(now);
            row.next_retry_at = None;
            row.lease = None;
            row.attempted_at = None;
            row.updated_at = now;
            requeued += 1;
        }
        Ok(requeued)
    }

    async fn unsettled(
        &self,
        attempted_before: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<UnsettledSms>, StoreError> {
        let rows = self.call(SmsLogCall::Unsettled)?;
        let mut unsettled: Vec<UnsettledSms> = rows
            .iter()
            .filter(|row| row.status == SmsStatus::Unknown)
            .filter_map(|row| {
                let attempted_at = row.attempted_at.filter(|at| *at < attempted_before)?;
                Some(UnsettledSms {
                    id: row.id,
                    to: row.to.clone(),
                    body: row.body.clone()?,
                    attempted_at,
                    retry_count: row.retry_count,
                })
            })
            .collect();
        unsettled.sort_by_key(|sms| (sms.attempted_at, sms.id));
        unsettled.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(unsettled)
    }

    async fn settle(&self, id: SmsLogId, outcome: &SendOutcome) -> Result<bool, StoreError> {
        let mut rows = self.call(SmsLogCall::Settle)?;
        Ok(rows
            .iter_mut()
            .find(|row| row.id == id && row.status == SmsStatus::Unknown)
            .map(|row| row.apply(outcome))
            .is_some())
    }

    async fn find_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> Result<Option<(SmsLogId, SmsStatus)>, StoreError> {
        let rows = self.call(SmsLogCall::FindByProviderId)?;
        Ok(rows
            .iter()
            .find(|row| row.provider_message_id.as_deref() == Some(provider_message_id))
            .map(|row| (row.id, row.status)))
    }

    async fn change_status(&self, id: SmsLogId, change: &StatusChange) -> Result<bool, StoreError> {
        let mut rows = self.call(SmsLogCall::ChangeStatus)?;
        let Some(row) = rows
            .iter_mut()
            .find(|row| row.id == id && row.status == change.from)
        else {
            return Ok(false);
        };
        row.status = change.to;
        row.updated_at = change.at;
        match change.to {
            SmsStatus::Delivered => row.delivered_at = Some(change.at),
            SmsStatus::Undelivered | SmsStatus::Failed => {
                row.failed_at = Some(change.at);
                row.error_code.clone_from(&change.error_code);
            }
            _ => {}
        }
        Ok(true)
    }
}

#[async_trait]
impl SmsLogQueries for InMemorySmsLog {
    async fn list(
        &self,
        filter: &SmsLogFilter,
        page: PageRequest,
    ) -> Result<Page<SmsLogEntry>, StoreError> {
        let rows = self.up()?;
        let entries = rows
            .iter()
            .filter(|row| filter.status.is_none_or(|status| row.status == status))
            .filter(|row| {
                filter
                    .user_id
                    .is_none_or(|user| row.owner.is_some_and(|owner| owner.user_id == user))
            })
            .filter(|row| filter.since.is_none_or(|since| row.created_at >= since))
            .map(|row| SmsLogEntry {
                id: row.id.as_uuid(),
                user_id: row.owner.map(|owner| owner.user_id),
                to_masked: row.to.masked(),
                body: row
                    .body
                    .as_ref()
                    .map(|body| redact_verification_code(body.as_str())),
                status: row.status,
                provider_message_id: row.provider_message_id.clone(),
                error_code: row.error_code.clone(),
                retry_count: row.retry_count,
                created_at: row.created_at,
                sent_at: row.sent_at,
                delivered_at: row.delivered_at,
                failed_at: row.failed_at,
            })
            .collect();
        Ok(keyset_page(entries, page, false, |entry| entry.id))
    }
}

// --- Inbound deduplication ----------------------------------------------------------------

/// How long an unanswered claim stays its request's before a redelivery takes it over, as in
/// the adapter.
pub const ABANDONED_AFTER: TimeDelta = TimeDelta::minutes(2);

/// An inbound message id the fake has received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRecord {
    /// The provider's id of the message.
    pub message_sid: String,
    /// The sender's account, when known.
    pub sender: Option<UserId>,
    /// The answer given, once processed.
    pub reply: Option<String>,
    /// When it arrived (or was last taken over).
    pub received_at: DateTime<Utc>,
}

/// In-memory [`InboundSmsLog`]: the first delivery of a message id claims it, later ones learn
/// the answer or that it is in progress; a claim left unanswered for [`ABANDONED_AFTER`] is
/// taken over; release forgets only an unanswered claim. Clones share the records.
#[derive(Debug, Clone, Default)]
pub struct InMemoryInboundSmsLog {
    outage: Outage,
    records: Arc<Mutex<Vec<InboundRecord>>>,
    failing_releases: Arc<std::sync::atomic::AtomicBool>,
}

impl InMemoryInboundSmsLog {
    /// An empty log, down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            records: Arc::default(),
            failing_releases: Arc::default(),
        }
    }

    /// While `fail` holds, `release` fails as unavailable and forgets nothing, the rest of the
    /// log answering: a store that goes down between processing a message and releasing it.
    pub fn fail_releases(&self, fail: bool) {
        self.failing_releases
            .store(fail, std::sync::atomic::Ordering::SeqCst);
    }

    /// Seeds a record, bypassing the port (replacing one with the same id).
    pub fn insert(&self, record: InboundRecord) {
        let mut records = lock(&self.records);
        records.retain(|stored| stored.message_sid != record.message_sid);
        records.push(record);
    }

    /// Every record, in the order received.
    #[must_use]
    pub fn records(&self) -> Vec<InboundRecord> {
        lock(&self.records).clone()
    }

    /// The record of `message_sid`.
    #[must_use]
    pub fn get(&self, message_sid: &str) -> Option<InboundRecord> {
        lock(&self.records)
            .iter()
            .find(|record| record.message_sid == message_sid)
            .cloned()
    }
}

#[async_trait]
impl InboundSmsLog for InMemoryInboundSmsLog {
    async fn claim(
        &self,
        message_sid: &str,
        sender: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<InboundClaim, StoreError> {
        self.outage.check()?;
        let mut records = lock(&self.records);
        let Some(earlier) = records
            .iter_mut()
            .find(|record| record.message_sid == message_sid)
        else {
            records.push(InboundRecord {
                message_sid: message_sid.to_owned(),
                sender,
                reply: None,
                received_at: at,
            });
            return Ok(InboundClaim::First);
        };
        Ok(match &earlier.reply {
            Some(reply) => InboundClaim::Answered(reply.clone()),
            None if earlier.received_at < at - ABANDONED_AFTER => {
                earlier.received_at = at;
                earlier.sender = sender;
                InboundClaim::First
            }
            None => InboundClaim::InProgress,
        })
    }

    async fn answered(&self, message_sid: &str, reply: &str) -> Result<(), StoreError> {
        self.outage.check()?;
        if let Some(record) = lock(&self.records)
            .iter_mut()
            .find(|record| record.message_sid == message_sid)
        {
            record.reply = Some(reply.to_owned());
        }
        Ok(())
    }

    async fn release(&self, message_sid: &str) -> Result<(), StoreError> {
        self.outage.check()?;
        if self
            .failing_releases
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(StoreError::Unavailable("the fake release fails".into()));
        }
        lock(&self.records)
            .retain(|record| record.message_sid != message_sid || record.reply.is_some());
        Ok(())
    }
}

// --- Accounts -----------------------------------------------------------------------------

/// An account as the fake knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsAccountRecord {
    /// Its tenant and id.
    pub owner: Owner,
    /// What it says about texting it.
    pub recipient: Recipient,
    /// When its consent last changed through the port.
    pub updated_at: Option<DateTime<Utc>>,
}

/// In-memory [`SmsAccounts`]: a number finds only the active account that verified it, consent
/// changes only the named tenant's account, and no two accounts share a number. Clones share
/// the accounts.
#[derive(Debug, Clone, Default)]
pub struct InMemorySmsAccounts {
    outage: Outage,
    accounts: Arc<Mutex<Vec<SmsAccountRecord>>>,
}

impl InMemorySmsAccounts {
    /// No accounts, down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            accounts: Arc::default(),
        }
    }

    /// Seeds (or replaces) the account `owner`; `false`, and nothing stored, when another account
    /// holds the same number (the number is unique across the platform).
    pub fn add(&self, owner: Owner, recipient: Recipient) -> bool {
        let mut accounts = lock(&self.accounts);
        let taken = recipient.phone.is_some()
            && accounts.iter().any(|account| {
                account.owner.user_id != owner.user_id && account.recipient.phone == recipient.phone
            });
        if taken {
            return false;
        }
        accounts.retain(|account| account.owner.user_id != owner.user_id);
        accounts.push(SmsAccountRecord {
            owner,
            recipient,
            updated_at: None,
        });
        true
    }

    /// Every account, in the order added.
    #[must_use]
    pub fn accounts(&self) -> Vec<SmsAccountRecord> {
        lock(&self.accounts).clone()
    }

    /// The account with this id.
    #[must_use]
    pub fn account(&self, user: UserId) -> Option<SmsAccountRecord> {
        lock(&self.accounts)
            .iter()
            .find(|account| account.owner.user_id == user)
            .cloned()
    }
}

#[async_trait]
impl SmsAccounts for InMemorySmsAccounts {
    async fn find_by_phone(&self, phone: &PhoneNumber) -> Result<Option<SmsAccount>, StoreError> {
        self.outage.check()?;
        Ok(lock(&self.accounts)
            .iter()
            .find(|account| {
                account.recipient.phone.as_ref() == Some(phone)
                    && account.recipient.is_active
                    && account.recipient.phone_verified
            })
            .map(|account| SmsAccount {
                owner: account.owner,
                sms_opt_in: account.recipient.sms_opt_in,
            }))
    }

    async fn recipient(&self, account: UserId) -> Result<Option<Recipient>, StoreError> {
        self.outage.check()?;
        Ok(self.account(account).map(|account| account.recipient))
    }

    async fn set_sms_opt_in(
        &self,
        owner: Owner,
        opt_in: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.outage.check()?;
        if let Some(account) = lock(&self.accounts)
            .iter_mut()
            .find(|account| account.owner == owner)
        {
            account.recipient.sms_opt_in = opt_in;
            account.updated_at = Some(at);
        }
        Ok(())
    }
}

// --- The reminder schedule ----------------------------------------------------------------

/// In-memory [`ReminderQueue`] over the plants, accounts and SMS-log fakes: a claim takes the
/// due plants (active, owner active, opted in, with a verified number) in reminder order, moves
/// each one's next reminder a watering interval past `now` and logs its pending reminder in one
/// step, so a claimed plant is not due again — nor claimed twice — until then.
#[derive(Clone)]
pub struct InMemoryReminderQueue {
    outage: Outage,
    plants: InMemoryUserPlants,
    accounts: InMemorySmsAccounts,
    log: InMemorySmsLog,
    ids: Option<Arc<dyn IdGenerator>>,
}

impl std::fmt::Debug for InMemoryReminderQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryReminderQueue")
            .field("plants", &self.plants)
            .field("accounts", &self.accounts)
            .field("log", &self.log)
            .finish_non_exhaustive()
    }
}

impl InMemoryReminderQueue {
    /// A queue over these fakes (the plants with their species, the owners' accounts, and the
    /// log the reminders go to), down while `outage` lasts. Log entries get UUID v7 ids, as in
    /// the adapter.
    #[must_use]
    pub const fn new(
        outage: Outage,
        plants: InMemoryUserPlants,
        accounts: InMemorySmsAccounts,
        log: InMemorySmsLog,
    ) -> Self {
        Self {
            outage,
            plants,
            accounts,
            log,
            ids: None,
        }
    }

    /// The same queue, taking the log entries' ids from `ids` (for predictable ids).
    #[must_use]
    pub fn with_ids(mut self, ids: Arc<dyn IdGenerator>) -> Self {
        self.ids = Some(ids);
        self
    }
}

#[async_trait]
impl ReminderQueue for InMemoryReminderQueue {
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u64,
        from: &str,
    ) -> Result<u64, StoreError> {
        self.outage.check()?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        self.plants.with_table(|table| {
            let accounts = lock(&self.accounts.accounts);
            // (index of the plant, owner, number, watering interval)
            let mut due: Vec<(usize, Owner, PhoneNumber, u32)> = table
                .plants
                .iter()
                .enumerate()
                .filter(|(_, plant)| plant.is_active)
                .filter(|(_, plant)| plant.next_reminder_at.is_some_and(|at| at <= now))
                .filter_map(|(index, plant)| {
                    let interval = table
                        .species
                        .get(&plant.catalog_plant_id)?
                        .watering_interval_days;
                    let account = accounts
                        .iter()
                        .find(|account| account.owner.user_id == plant.owner)?;
                    let recipient = &account.recipient;
                    if !(recipient.is_active && recipient.sms_opt_in && recipient.phone_verified) {
                        return None;
                    }
                    let owner = Owner {
                        tenant_id: plant.tenant_id,
                        user_id: plant.owner,
                    };
                    Some((index, owner, recipient.phone.clone()?, interval))
                })
                .collect();
            due.sort_by_key(|(index, ..)| {
                table
                    .plants
                    .get(*index)
                    .map(|plant| (plant.next_reminder_at, plant.id))
            });
            due.truncate(limit);
            let mut log = lock(&self.log.rows);
            for (index, owner, phone, interval) in &due {
                let Some(plant) = table.plants.get_mut(*index) else {
                    continue;
                };
                plant.next_reminder_at = Some(next_watering(now, *interval));
                let id = self
                    .ids
                    .as_ref()
                    .map_or_else(Uuid::now_v7, |ids| ids.new_id());
                log.push(SmsLogRecord {
                    owner: Some(*owner),
                    from: from.to_owned(),
                    plant: Some(plant.id),
                    ..SmsLogRecord::pending(
                        SmsLogId::from_uuid(id),
                        phone.clone(),
                        SmsPurpose::Reminder,
                        now,
                    )
                });
            }
            Ok(u64::try_from(due.len()).unwrap_or(u64::MAX))
        })
    }
}

// --- Verification codes -------------------------------------------------------------------

/// A verification code the fake keeps (the code itself, where the adapter keeps a hash, so that
/// a test can read what was sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVerification {
    /// Its id.
    pub id: Uuid,
    /// The account.
    pub user_id: UserId,
    /// The number it was sent to.
    pub phone: PhoneNumber,
    /// The code.
    pub code: VerificationCode,
    /// Tries counted.
    pub attempts: u32,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
    /// When it was used.
    pub consumed_at: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct Codes {
    rows: Vec<StoredVerification>,
    queued: VecDeque<VerificationCode>,
    generated: u32,
}

/// The first code the fake generates when none is queued; the next ones count up from it.
pub const FIRST_GENERATED_CODE: u32 = 123_456;

/// In-memory [`VerificationCodes`]: a try counts against the newest live code of the account
/// for the number before the comparison, never beyond `tries`, and a matching code is used up.
/// `generate` hands out queued codes, then `123456`, `123457`, ... Clones share the codes.
#[derive(Debug, Clone, Default)]
pub struct InMemoryVerificationCodes {
    outage: Outage,
    codes: Arc<Mutex<Codes>>,
}

impl InMemoryVerificationCodes {
    /// No codes, down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            codes: Arc::default(),
        }
    }

    /// Makes `code` the next one `generate` hands out.
    pub fn push_code(&self, code: VerificationCode) {
        lock(&self.codes).queued.push_back(code);
    }

    /// Seeds a code, bypassing the port (replacing one with the same id).
    pub fn insert(&self, verification: StoredVerification) {
        let mut codes = lock(&self.codes);
        codes.rows.retain(|row| row.id != verification.id);
        codes.rows.push(verification);
    }

    /// Every code kept, in the order stored.
    #[must_use]
    pub fn stored(&self) -> Vec<StoredVerification> {
        lock(&self.codes).rows.clone()
    }
}

#[async_trait]
impl VerificationCodes for InMemoryVerificationCodes {
    fn generate(&self) -> VerificationCode {
        let mut codes = lock(&self.codes);
        if let Some(code) = codes.queued.pop_front() {
            return code;
        }
        let number = FIRST_GENERATED_CODE.wrapping_add(codes.generated);
        codes.generated = codes.generated.wrapping_add(1);
        VerificationCode::from_number(number)
    }

    async fn sent_since(
        &self,
        user: UserId,
        phone: &PhoneNumber,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        self.outage.check()?;
        Ok(lock(&self.codes)
            .rows
            .iter()
            .filter(|row| row.created_at >= since)
            .filter(|row| row.user_id == user || &row.phone == phone)
            .map(|row| row.created_at)
            .collect())
    }

    async fn store(&self, verification: &NewVerification) -> Result<(), StoreError> {
        self.outage.check()?;
        let mut codes = lock(&self.codes);
        if codes.rows.iter().any(|row| row.id == verification.id) {
            return Err(refused(format!(
                "duplicate verification id {}",
                verification.id
            )));
        }
        codes.rows.push(StoredVerification {
            id: verification.id,
            user_id: verification.user_id,
            phone: verification.phone.clone(),
            code: verification.code.clone(),
            attempts: 0,
            expires_at: verification.expires_at,
            consumed_at: None,
            created_at: verification.created_at,
        });
        Ok(())
    }

    async fn try_code(
        &self,
        user: UserId,
        phone: &PhoneNumber,
        code: &VerificationCode,
        now: DateTime<Utc>,
        tries: u32,
    ) -> Result<CodeCheck, StoreError> {
        self.outage.check()?;
        let mut codes = lock(&self.codes);
        // The newest live code; of codes made at the same moment, the last stored.
        let newest = codes
            .rows
            .iter_mut()
            .filter(|row| row.user_id == user && &row.phone == phone)
            .filter(|row| row.consumed_at.is_none() && row.expires_at > now)
            .filter(|row| row.attempts < tries)
            .max_by_key(|row| row.created_at);
        let Some(newest) = newest else {
            return Ok(CodeCheck::NoLiveCode);
        };
        newest.attempts += 1;
        if &newest.code != code {
            return Ok(CodeCheck::Wrong);
        }
        newest.consumed_at = Some(now);
        Ok(CodeCheck::Confirmed)
    }
}

// --- Reminder texts -----------------------------------------------------------------------

/// A reminder text the fake hands out for one owner's plant.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ReminderText {
    owner: Owner,
    plant: UserPlantId,
    body: SmsBody,
}

#[derive(Debug, Default)]
struct Reminders {
    texts: Vec<ReminderText>,
    requests: Vec<(Owner, UserPlantId)>,
}

/// A [`ReminderTexts`] answering the text set for each owner's plant (`None` for a plant it
/// does not know, or another owner's), recording every request; it fails while its outage
/// lasts, as writing the conversation would. Clones share the texts.
#[derive(Debug, Clone, Default)]
pub struct FakeReminderTexts {
    outage: Outage,
    reminders: Arc<Mutex<Reminders>>,
}

impl FakeReminderTexts {
    /// No texts, failing while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            reminders: Arc::default(),
        }
    }

    /// Makes `body` the reminder of `owner`'s `plant`.
    pub fn set(&self, owner: Owner, plant: UserPlantId, body: SmsBody) {
        let mut reminders = lock(&self.reminders);
        reminders
            .texts
            .retain(|text| !(text.owner == owner && text.plant == plant));
        reminders.texts.push(ReminderText { owner, plant, body });
    }

    /// Forgets the plant, as if it was deleted: its reminder is then `None`.
    pub fn remove(&self, plant: UserPlantId) {
        lock(&self.reminders)
            .texts
            .retain(|text| text.plant != plant);
    }

    /// Every reminder asked for, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<(Owner, UserPlantId)> {
        lock(&self.reminders).requests.clone()
    }
}

#[async_trait]
impl ReminderTexts for FakeReminderTexts {
    async fn write_reminder(
        &self,
        owner: Owner,
        plant: UserPlantId,
    ) -> Result<Option<SmsBody>, Failure> {
        self.outage.check()?;
        let mut reminders = lock(&self.reminders);
        reminders.requests.push((owner, plant));
        Ok(reminders
            .texts
            .iter()
            .find(|text| text.owner == owner && text.plant == plant)
            .map(|text| text.body.clone()))
    }
}

// --- Webhook signatures -------------------------------------------------------------------

/// A webhook request the fake verifier was asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    /// The request's URL.
    pub url: String,
    /// Its parameters.
    pub params: Vec<(String, String)>,
    /// The signature presented.
    pub signature: String,
}

/// The signature [`FakeSignatureVerifier::default`] accepts.
pub const VALID_SIGNATURE: &str = "valid-signature";

/// A [`SignatureVerifier`] that accepts exactly one configured signature, whatever the URL and
/// parameters, and records every check. Clones share the records.
#[derive(Debug, Clone)]
pub struct FakeSignatureVerifier {
    accepted: String,
    checks: Arc<Mutex<Vec<SignatureCheck>>>,
}

impl Default for FakeSignatureVerifier {
    fn default() -> Self {
        Self::accepting(VALID_SIGNATURE)
    }
}

impl FakeSignatureVerifier {
    /// A verifier that accepts `signature` only.
    #[must_use]
    pub fn accepting(signature: &str) -> Self {
        Self {
            accepted: signature.to_owned(),
            checks: Arc::default(),
        }
    }

    /// Every check made, in order.
    #[must_use]
    pub fn checks(&self) -> Vec<SignatureCheck> {
        lock(&self.checks).clone()
    }
}

impl SignatureVerifier for FakeSignatureVerifier {
    fn is_valid(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        lock(&self.checks).push(SignatureCheck {
            url: url.to_owned(),
            params: params.to_vec(),
            signature: signature.to_owned(),
        });
        signature == self.accepted
    }
}

#[cfg(test)]
mod tests {
    use domain::{
        catalog::{CatalogPlantId, Light, PersonalityKey},
        identity::TenantId,
        plants::{Nickname, UserPlant},
    };

    use super::*;
    use crate::plants::{CatalogSummary, OwnedPlant};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn noon() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::hours(12)
    }

    fn someone() -> Owner {
        Owner {
            tenant_id: TenantId::from_uuid(Uuid::now_v7()),
            user_id: UserId::from_uuid(Uuid::now_v7()),
        }
    }

    fn reachable(phone: &PhoneNumber, sms_opt_in: bool) -> Recipient {
        Recipient {
            is_active: true,
            phone: Some(phone.clone()),
            phone_verified: true,
            sms_opt_in,
        }
    }

    fn due_plant(
        owner: Owner,
        at: DateTime<Utc>,
    ) -> Result<OwnedPlant, Box<dyn std::error::Error>> {
        let species = CatalogSummary {
            id: CatalogPlantId::from_uuid(Uuid::now_v7()),
            common_name: "Pothos".to_owned(),
            scientific_name: "Epipremnum aureum".to_owned(),
            watering_interval_days: 7,
            light: Light::Low,
        };
        Ok(OwnedPlant {
            plant: UserPlant {
                id: UserPlantId::from_uuid(Uuid::now_v7()),
                tenant_id: owner.tenant_id,
                owner: owner.user_id,
                catalog_plant_id: species.id,
                nickname: Nickname::parse("Pothos")?,
                personality: PersonalityKey::parse("chill_friend")?,
                last_watered_at: None,
                next_reminder_at: Some(at),
                is_active: true,
                created_at: at,
                updated_at: at,
            },
            catalog: species,
        })
    }

    #[tokio::test]
    async fn a_claimed_reminder_is_not_claimed_twice_and_an_opted_out_owner_gets_none() -> TestResult
    {
        let outage = Outage::default();
        let plants = InMemoryUserPlants::new(outage.clone());
        let accounts = InMemorySmsAccounts::new(outage.clone());
        let log = InMemorySmsLog::new(outage.clone());
        let queue =
            InMemoryReminderQueue::new(outage, plants.clone(), accounts.clone(), log.clone());
        let (keen, opted_out) = (someone(), someone());
        assert!(accounts.add(keen, reachable(&PhoneNumber::parse("+14155550001")?, true)));
        assert!(accounts.add(
            opted_out,
            reachable(&PhoneNumber::parse("+14155550002")?, false)
        ));
        let due = due_plant(keen, noon())?;
        plants.insert(due.clone());
        plants.insert(due_plant(opted_out, noon())?);

        assert_eq!(queue.claim_due(noon(), 50, "+15005550006").await?, 1);
        assert_eq!(queue.claim_due(noon(), 50, "+15005550006").await?, 0);
        let entries = log.entries();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].plant, Some(due.plant.id));
        assert_eq!(entries[0].status, SmsStatus::Pending);
        assert_eq!(entries[0].purpose, SmsPurpose::Reminder);
        assert_eq!(
            plants
                .get(due.plant.id)
                .and_then(|plant| plant.next_reminder_at),
            Some(noon() + TimeDelta::days(7))
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_leased_entry_goes_to_one_holder_until_its_lease_runs_out() -> TestResult {
        let log = InMemorySmsLog::default();
        let id = SmsLogId::from_uuid(Uuid::now_v7());
        log.insert(SmsLogRecord::pending(
            id,
            PhoneNumber::parse("+14155550001")?,
            SmsPurpose::Message,
            noon(),
        ));
        let first = Lease {
            token: Uuid::now_v7(),
            until: noon() + SEND_LEASE,
        };
        let second = Lease {
            token: Uuid::now_v7(),
            until: noon() + SEND_LEASE * 2,
        };
        assert_eq!(log.lease_pending(noon(), first, 10).await?.len(), 1);
        assert!(log.lease_pending(noon(), second, 10).await?.is_empty());
        let later = first.until;
        assert_eq!(log.lease_pending(later, second, 10).await?.len(), 1);
        let outcome = SendOutcome::Unknown {
            message: "timed out".to_owned(),
            at: later,
        };
        assert!(!log.record_outcome(id, first, &outcome).await?);
        assert!(log.record_outcome(id, second, &outcome).await?);
        assert_eq!(
            log.entry(id).map(|entry| entry.status),
            Some(SmsStatus::Unknown)
        );
        Ok(())
    }

    #[tokio::test]
    async fn tries_count_before_the_comparison_and_a_used_code_is_gone() -> TestResult {
        let codes = InMemoryVerificationCodes::default();
        let user = UserId::from_uuid(Uuid::now_v7());
        let phone = PhoneNumber::parse("+14155550001")?;
        let code = codes.generate();
        codes
            .store(&NewVerification {
                id: Uuid::now_v7(),
                user_id: user,
                phone: phone.clone(),
                code: code.clone(),
                expires_at: noon() + TimeDelta::minutes(10),
                created_at: noon(),
            })
            .await?;
        let wrong = VerificationCode::from_number(0);
        assert_eq!(
            codes.try_code(user, &phone, &wrong, noon(), 2).await?,
            CodeCheck::Wrong
        );
        assert_eq!(
            codes.try_code(user, &phone, &code, noon(), 2).await?,
            CodeCheck::Confirmed
        );
        assert_eq!(
            codes.try_code(user, &phone, &code, noon(), 5).await?,
            CodeCheck::NoLiveCode
        );
        Ok(())
    }
}
