//! The identity database in memory — tenants, users, refresh tokens and the admin audit log in
//! one place, so that a transaction can work on a copy of them and commit it whole — and a
//! cheap password hasher and token service that behave like the real ones.

use std::{
    collections::{BTreeMap, BTreeSet},
    hash::{DefaultHasher, Hash as _, Hasher as _},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    identity::{
        AccountStanding, Email, Password, PasswordHash, Role, Tenant, TenantId, TenantSlug, User,
        UserId,
    },
    phone::PhoneNumber,
    secret::Secret,
    sms::verification::UNVERIFIED_HOLD,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Outage, admin::InMemoryAuditLog, lock};
use crate::{
    admin::ports::{AuditEntry, AuditLog},
    identity::ports::{
        AccessClaims, AccessToken, ExportPage, ExportTable, HasherError, NewRefreshToken,
        PasswordCheck, PasswordHasher, ProfileUpdate, RefreshTokenRecord, RefreshTokenRepository,
        SaveTenantError, SaveUserError, TenantRepository, TokenRejected, TokenService,
        UserRepository,
    },
    paging::{Page, PageRequest},
    store::StoreError,
    system::Clock,
    unit_of_work::{Transaction, UnitOfWork},
};

/// A failure the database would report as unexpected (a broken constraint the use cases never
/// provoke on purpose).
fn unexpected(message: &str) -> StoreError {
    StoreError::Unexpected(message.into())
}

/// At most `limit + 1` items: what a keyset query reads to know whether a page follows.
fn overfetch(limit: u64) -> usize {
    usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX)
}

/// A user as the table holds it: the domain user and the column the domain does not carry.
#[derive(Debug, Clone)]
struct UserRow {
    user: User,
    /// When the current number was set: an unverified number holds for [`UNVERIFIED_HOLD`].
    phone_set_at: Option<DateTime<Utc>>,
}

impl UserRow {
    fn new(user: User) -> Self {
        let phone_set_at = user.phone.as_ref().map(|_| user.created_at);
        Self { user, phone_set_at }
    }

    fn is(&self, tenant: TenantId, id: UserId) -> bool {
        self.user.tenant_id == tenant && self.user.id == id
    }
}

/// What a transaction changed, so that its commit writes exactly those rows back.
#[derive(Debug, Clone, Default)]
struct Changes {
    users: BTreeSet<Uuid>,
    refresh_tokens: BTreeSet<Uuid>,
    audit: BTreeSet<Uuid>,
    export_rows: BTreeSet<Uuid>,
    erased: Vec<(TenantId, UserId)>,
}

/// The tables of the identity database.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tables {
    tenants: BTreeMap<Uuid, Tenant>,
    users: BTreeMap<Uuid, UserRow>,
    refresh_tokens: BTreeMap<Uuid, RefreshTokenRecord>,
    audit: BTreeMap<Uuid, AuditEntry>,
    /// Rows of the other export tables, by user and table name, by row key.
    export_rows: BTreeMap<(Uuid, &'static str), BTreeMap<String, Value>>,
    /// Whether these tables are a transaction's copy, whose changes are recorded.
    tracked: bool,
    changes: Changes,
}

impl Tables {
    fn touch_user(&mut self, id: Uuid) {
        if self.tracked {
            self.changes.users.insert(id);
        }
    }

    fn touch_token(&mut self, id: Uuid) {
        if self.tracked {
            self.changes.refresh_tokens.insert(id);
        }
    }

    /// Frees `phone` from an account that set it more than [`UNVERIFIED_HOLD`] before `at`
    /// without verifying it, as the real repository does before a write that claims it.
    fn release_stale_hold(&mut self, phone: &PhoneNumber, at: DateTime<Utc>) {
        let cutoff = at - UNVERIFIED_HOLD;
        let stale: Vec<Uuid> = self
            .users
            .iter()
            .filter(|(_, row)| {
                row.user.phone.as_ref() == Some(phone)
                    && !row.user.phone_verified
                    && row.phone_set_at.is_some_and(|set| set < cutoff)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some(row) = self.users.get_mut(&id) {
                row.user.phone = None;
                row.phone_set_at = None;
                row.user.sms_opt_in = false;
            }
            self.touch_user(id);
        }
    }

    fn phone_holder(&self, phone: &PhoneNumber) -> Option<Uuid> {
        self.users
            .iter()
            .find(|(_, row)| row.user.phone.as_ref() == Some(phone))
            .map(|(id, _)| *id)
    }

    fn user_mut(&mut self, tenant: TenantId, id: UserId) -> Option<&mut UserRow> {
        self.users
            .get_mut(&id.as_uuid())
            .filter(|row| row.user.tenant_id == tenant)
    }

    fn find_user(&self, tenant: TenantId, id: UserId) -> Option<&UserRow> {
        self.users
            .get(&id.as_uuid())
            .filter(|row| row.is(tenant, id))
    }

    fn create_user(&mut self, user: &User) -> Result<(), SaveUserError> {
        if let Some(phone) = &user.phone {
            self.release_stale_hold(phone, user.created_at);
        }
        if !self.tenants.contains_key(&user.tenant_id.as_uuid()) {
            return Err(
                unexpected("foreign key violation: the user's tenant does not exist").into(),
            );
        }
        if self.users.contains_key(&user.id.as_uuid()) {
            return Err(unexpected("duplicate key: a user with this id exists").into());
        }
        if self
            .users
            .values()
            .any(|row| row.user.tenant_id == user.tenant_id && row.user.email == user.email)
        {
            return Err(SaveUserError::EmailTaken);
        }
        if user
            .phone
            .as_ref()
            .is_some_and(|phone| self.phone_holder(phone).is_some())
        {
            return Err(SaveUserError::PhoneTaken);
        }
        self.users
            .insert(user.id.as_uuid(), UserRow::new(user.clone()));
        self.touch_user(user.id.as_uuid());
        Ok(())
    }

    fn update_profile(
        &mut self,
        tenant: TenantId,
        id: UserId,
        update: &ProfileUpdate,
    ) -> Result<bool, SaveUserError> {
        if let Some(Some(phone)) = &update.phone {
            self.release_stale_hold(phone, update.updated_at);
        }
        let Some(row) = self.find_user(tenant, id) else {
            return Ok(false);
        };
        if update
            .replaces_password_hash
            .as_ref()
            .is_some_and(|replaced| &row.user.password_hash != replaced)
        {
            return Ok(false);
        }
        if let Some(Some(phone)) = &update.phone
            && self
                .phone_holder(phone)
                .is_some_and(|holder| holder != id.as_uuid())
        {
            return Err(SaveUserError::PhoneTaken);
        }
        let Some(row) = self.user_mut(tenant, id) else {
            return Ok(false);
        };
        row.user.updated_at = update.updated_at;
        if let Some(full_name) = &update.full_name {
            row.user.full_name = full_name.clone();
        }
        if let Some(phone) = &update.phone {
            // A new number is unverified until a code sent to it comes back.
            row.user.phone.clone_from(phone);
            row.user.phone_verified = false;
            row.phone_set_at = phone.as_ref().map(|_| update.updated_at);
        }
        if let Some(sms_opt_in) = update.sms_opt_in {
            row.user.sms_opt_in = sms_opt_in;
        }
        if let Some(hash) = &update.password_hash {
            row.user.password_hash = hash.clone();
        }
        self.touch_user(id.as_uuid());
        Ok(true)
    }

    /// Applies `change` to the user when `applies` holds, and answers whether it did.
    fn update_user_where(
        &mut self,
        tenant: TenantId,
        id: UserId,
        applies: impl FnOnce(&User) -> bool,
        change: impl FnOnce(&mut User),
    ) -> bool {
        let Some(row) = self.user_mut(tenant, id) else {
            return false;
        };
        if !applies(&row.user) {
            return false;
        }
        change(&mut row.user);
        self.touch_user(id.as_uuid());
        true
    }

    fn erase_user(&mut self, tenant: TenantId, id: UserId) -> bool {
        if self.find_user(tenant, id).is_none() {
            return false;
        }
        let user = id.as_uuid();
        self.users.remove(&user);
        self.touch_user(user);
        // Sessions cascade from the user.
        let tokens: Vec<Uuid> = self
            .refresh_tokens
            .values()
            .filter(|record| record.user_id == id)
            .map(|record| record.id)
            .collect();
        for token in tokens {
            self.refresh_tokens.remove(&token);
            self.touch_token(token);
        }
        // Everything they own goes, but the audits are immutable and stay.
        self.export_rows.retain(|(owner, table), _| {
            *owner != user
                || *table == ExportTable::ComplianceAudit.as_str()
                || *table == ExportTable::AdminAuditLog.as_str()
        });
        if self.tracked {
            self.changes.export_rows.insert(user);
            self.changes.erased.push((tenant, id));
        }
        true
    }

    fn export_page(
        &self,
        tenant: TenantId,
        id: UserId,
        table: ExportTable,
        after: Option<String>,
        limit: u64,
    ) -> Result<ExportPage, StoreError> {
        if table != ExportTable::InboundSms
            && let Some(after) = &after
        {
            Uuid::parse_str(after).map_err(|error| StoreError::Unexpected(Box::new(error)))?;
        }
        let rows: Vec<(String, Value)> = match table {
            ExportTable::Account => self
                .find_user(tenant, id)
                .map(|row| (id.to_string(), account_row(row)))
                .into_iter()
                .collect(),
            ExportTable::AdminAuditLog => {
                let target = format!("user:{id}");
                self.audit
                    .values()
                    .filter(|entry| entry.target.as_deref() == Some(target.as_str()))
                    .map(|entry| (entry.id.to_string(), audit_row(entry)))
                    .collect()
            }
            _ => self
                .export_rows
                .get(&(id.as_uuid(), table.as_str()))
                .map(|rows| {
                    rows.iter()
                        .map(|(key, row)| (key.clone(), row.clone()))
                        .collect()
                })
                .unwrap_or_default(),
        };
        let mut rows: Vec<(String, Value)> = rows
            .into_iter()
            .filter(|(key, _)| after.as_ref().is_none_or(|after| key > after))
            .take(overfetch(limit))
            .collect();
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_after = if more {
            rows.last().map(|(key, _)| key.clone())
        } else {
            None
        };
        Ok(ExportPage {
            rows: rows.into_iter().map(|(_, row)| row).collect(),
            next_after,
        })
    }

    fn insert_token(&mut self, record: &RefreshTokenRecord) -> Result<(), StoreError> {
        self.check_new_token(record)?;
        self.refresh_tokens.insert(record.id, record.clone());
        self.touch_token(record.id);
        Ok(())
    }

    fn check_new_token(&self, record: &RefreshTokenRecord) -> Result<(), StoreError> {
        if self.refresh_tokens.contains_key(&record.id) {
            return Err(unexpected(
                "duplicate key: a refresh token with this id exists",
            ));
        }
        if self
            .refresh_tokens
            .values()
            .any(|stored| stored.token_hash == record.token_hash)
        {
            return Err(unexpected(
                "duplicate key: a refresh token with this hash exists",
            ));
        }
        if !self.users.contains_key(&record.user_id.as_uuid()) {
            return Err(unexpected(
                "foreign key violation: the token's user does not exist",
            ));
        }
        Ok(())
    }

    fn revoke_tokens_where(
        &mut self,
        at: DateTime<Utc>,
        which: impl Fn(&RefreshTokenRecord) -> bool,
    ) {
        let live: Vec<Uuid> = self
            .refresh_tokens
            .values()
            .filter(|record| record.revoked_at.is_none() && which(record))
            .map(|record| record.id)
            .collect();
        for id in live {
            if let Some(record) = self.refresh_tokens.get_mut(&id) {
                record.revoked_at = Some(at);
            }
            self.touch_token(id);
        }
    }

    /// Appends an audit entry (used by the audit log fake).
    pub(crate) fn append_audit(&mut self, entry: &AuditEntry) -> Result<(), StoreError> {
        if self.audit.contains_key(&entry.id) {
            return Err(unexpected(
                "duplicate key: an audit entry with this id exists",
            ));
        }
        self.audit.insert(entry.id, entry.clone());
        if self.tracked {
            self.changes.audit.insert(entry.id);
        }
        Ok(())
    }

    /// A page of the audit log, newest (highest id) first.
    pub(crate) fn audit_page(&self, page: PageRequest) -> Page<AuditEntry> {
        let entries = self
            .audit
            .values()
            .rev()
            .filter(|entry| page.after.is_none_or(|after| entry.id < after))
            .take(overfetch(page.limit))
            .cloned()
            .collect();
        Page::from_overfetched(entries, page.limit, |entry| entry.id)
    }

    /// Every audit entry, in id order.
    pub(crate) fn audit_entries(&self) -> Vec<AuditEntry> {
        self.audit.values().cloned().collect()
    }

    /// Stores an audit entry as it is, replacing one with its id.
    pub(crate) fn put_audit(&mut self, entry: AuditEntry) {
        self.audit.insert(entry.id, entry);
    }

    /// Writes the rows a transaction's copy changed into these (live) tables.
    fn apply(&mut self, work: &Self) {
        let changes = &work.changes;
        for id in &changes.users {
            match work.users.get(id) {
                Some(row) => self.users.insert(*id, row.clone()),
                None => self.users.remove(id),
            };
        }
        for id in &changes.refresh_tokens {
            match work.refresh_tokens.get(id) {
                Some(record) => self.refresh_tokens.insert(*id, record.clone()),
                None => self.refresh_tokens.remove(id),
            };
        }
        for id in &changes.audit {
            match work.audit.get(id) {
                Some(entry) => self.audit.insert(*id, entry.clone()),
                None => self.audit.remove(id),
            };
        }
        for user in &changes.export_rows {
            self.export_rows.retain(|(owner, _), _| owner != user);
            for ((owner, table), rows) in work.export_rows.range((*user, "")..) {
                if owner != user {
                    break;
                }
                self.export_rows.insert((*owner, table), rows.clone());
            }
        }
    }
}

/// The account row as the export shows it: every column but the password hash.
fn account_row(row: &UserRow) -> Value {
    let user = &row.user;
    json!({
        "id": user.id,
        "tenant_id": user.tenant_id,
        "email": user.email.as_str(),
        "full_name": user.full_name.as_str(),
        "phone": user.phone.as_ref().map(PhoneNumber::as_str),
        "phone_verified": user.phone_verified,
        "phone_set_at": row.phone_set_at,
        "role": user.role.as_str(),
        "is_active": user.is_active,
        "sms_opt_in": user.sms_opt_in,
        "flagged": user.flagged,
        "token_version": user.token_version,
        "tokens_valid_after": user.tokens_valid_after,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login_at": user.last_login_at,
    })
}

/// An audit entry as its table row reads in the export.
fn audit_row(entry: &AuditEntry) -> Value {
    json!({
        "id": entry.id,
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "old_value": entry.old.as_ref().map(ToString::to_string),
        "new_value": entry.new.as_ref().map(ToString::to_string),
        "outcome": entry.outcome.as_str(),
        "created_at": entry.created_at,
    })
}

/// Called with each erased account once its erasure is written.
type EraseHook = Arc<dyn Fn(TenantId, UserId) + Send + Sync>;

/// Something a test makes happen once, in the middle of a use case: the change a concurrent
/// request would make at that moment.
pub(crate) struct Interruption(Box<dyn FnOnce() + Send>);

impl Interruption {
    pub(crate) fn new(hook: impl FnOnce() + Send + 'static) -> Self {
        Self(Box::new(hook))
    }

    pub(crate) fn run(self) {
        (self.0)();
    }
}

impl std::fmt::Debug for Interruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Interruption")
    }
}

/// A repository call of the identity database that a test can slip a concurrent change in
/// front of, with [`InMemoryIdentity::before_next`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityCall {
    /// [`UserRepository::find`] (by tenant and id), in or out of a transaction.
    FindUser,
    /// [`UserRepository::update_profile`], in or out of a transaction.
    UpdateProfile,
    /// [`RefreshTokenRepository::rotate`].
    RotateRefreshToken,
}

/// What the live tables and every transaction over them share.
#[derive(Default)]
struct Shared {
    outage: Outage,
    erase_hooks: Mutex<Vec<EraseHook>>,
    interruptions: Mutex<Vec<(IdentityCall, Interruption)>>,
    fail_commits: AtomicBool,
    commits: AtomicUsize,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("outage", &self.outage)
            .field("fail_commits", &self.fail_commits)
            .field("commits", &self.commits)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Runs the interruption waiting for `call`, if any, before the call touches the tables.
    fn before(&self, call: IdentityCall) {
        let interruption = {
            let mut waiting = lock(&self.interruptions);
            waiting
                .iter()
                .position(|(awaited, _)| *awaited == call)
                .map(|at| waiting.remove(at).1)
        };
        if let Some(interruption) = interruption {
            interruption.run();
        }
    }

    fn erased(&self, erased: &[(TenantId, UserId)]) {
        if erased.is_empty() {
            return;
        }
        let hooks = lock(&self.erase_hooks).clone();
        for (tenant, user) in erased {
            for hook in &hooks {
                hook(*tenant, *user);
            }
        }
    }
}

/// Which tables a repository works on: the live ones, or a transaction's copy.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    tables: Arc<Mutex<Tables>>,
    shared: Arc<Shared>,
}

impl Scope {
    /// Runs `work` on the tables, unless the store is down.
    pub(crate) fn run<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut Tables) -> Result<T, E>,
    ) -> Result<T, E> {
        self.shared.outage.check()?;
        work(&mut lock(&self.tables))
    }

    /// Reads the tables whatever the outage (for the tests' own assertions).
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Tables) -> T) -> T {
        read(&lock(&self.tables))
    }

    /// Changes the tables whatever the outage (for the tests' own seeding).
    pub(crate) fn write<T>(&self, write: impl FnOnce(&mut Tables) -> T) -> T {
        write(&mut lock(&self.tables))
    }
}

/// The identity database: tenants, users, refresh tokens and the admin audit log, shared by the
/// repositories it hands out and by the transactions of its unit of work. Clones share the data.
///
/// Like the real schema it enforces uniqueness (email per tenant, phone on the platform, token
/// hash) and foreign keys (a user's tenant, a token's user); erasing a user takes their
/// sessions along.
#[derive(Debug, Clone, Default)]
pub struct InMemoryIdentity {
    live: Scope,
}

impl InMemoryIdentity {
    /// An empty database, down while `outage` lasts (transactions and commits too).
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            live: Scope {
                tables: Arc::default(),
                shared: Arc::new(Shared {
                    outage,
                    ..Shared::default()
                }),
            },
        }
    }

    /// The tenants.
    #[must_use]
    pub fn tenants(&self) -> InMemoryTenants {
        InMemoryTenants {
            scope: self.live.clone(),
        }
    }

    /// The users, outside any transaction.
    #[must_use]
    pub fn users(&self) -> InMemoryUsers {
        InMemoryUsers {
            scope: self.live.clone(),
        }
    }

    /// The refresh tokens, outside any transaction.
    #[must_use]
    pub fn refresh_tokens(&self) -> InMemoryRefreshTokens {
        InMemoryRefreshTokens {
            scope: self.live.clone(),
        }
    }

    /// The admin audit log, outside any transaction.
    #[must_use]
    pub fn audit_log(&self) -> InMemoryAuditLog {
        InMemoryAuditLog::over(self.live.clone())
    }

    /// Transactions over users, refresh tokens and the audit log.
    #[must_use]
    pub fn unit_of_work(&self) -> InMemoryUnitOfWork {
        InMemoryUnitOfWork {
            live: self.live.clone(),
        }
    }

    /// Calls `hook` with every account erased from now on, once the erasure is written (at the
    /// commit, inside a transaction): the way to cascade an erasure to the other fakes (plants,
    /// gardens, SMS log, idempotency keys) as the database's foreign keys do.
    pub fn on_erase(&self, hook: impl Fn(TenantId, UserId) + Send + Sync + 'static) {
        lock(&self.live.shared.erase_hooks).push(Arc::new(hook));
    }

    /// Runs `hook` once, just before the next `call` (from any repository or transaction of this
    /// database) reads the tables: the way to make a concurrent request change the data in the
    /// middle of a use case. `hook` changes the live tables (through the seeding helpers); a
    /// transaction already begun does not see it, as it would not under its row locks.
    pub fn before_next(&self, call: IdentityCall, hook: impl FnOnce() + Send + 'static) {
        lock(&self.live.shared.interruptions).push((call, Interruption::new(hook)));
    }

    /// Makes every commit fail (`true`) as `Unexpected`, writing nothing, or succeed again.
    pub fn fail_commits(&self, fail: bool) {
        self.live.shared.fail_commits.store(fail, Ordering::SeqCst);
    }

    /// How many transactions were committed.
    #[must_use]
    pub fn commits(&self) -> usize {
        self.live.shared.commits.load(Ordering::SeqCst)
    }

    /// Adds a row about `user` to one of the export's tables the identity fakes do not hold
    /// (plants, messages, SMS, gardens, ...), under `key` (its id: rows are exported in key
    /// order). The account and the admin audit log are exported from the data itself.
    /// Erasing the user removes them, but for the audits.
    pub fn add_export_row(
        &self,
        user: UserId,
        table: ExportTable,
        key: impl Into<String>,
        row: Value,
    ) {
        self.live.write(|tables| {
            tables
                .export_rows
                .entry((user.as_uuid(), table.as_str()))
                .or_default()
                .insert(key.into(), row);
        });
    }

    /// Deletes the refresh-token families whose last token expired before `before`, as the
    /// retention job does, and answers how many tokens went.
    pub fn purge_ended_families(&self, before: DateTime<Utc>) -> u64 {
        self.live.write(|tables| {
            let mut ends: BTreeMap<Uuid, DateTime<Utc>> = BTreeMap::new();
            for record in tables.refresh_tokens.values() {
                let end = ends.entry(record.family_id).or_insert(record.expires_at);
                *end = (*end).max(record.expires_at);
            }
            let before_count = tables.refresh_tokens.len();
            tables
                .refresh_tokens
                .retain(|_, record| ends.get(&record.family_id).is_none_or(|end| *end >= before));
            u64::try_from(before_count - tables.refresh_tokens.len()).unwrap_or(u64::MAX)
        })
    }
}

/// In-memory [`TenantRepository`]: slugs are unique, lists go by id (creation order) with
/// keyset paging. Part of an [`InMemoryIdentity`].
#[derive(Debug, Clone, Default)]
pub struct InMemoryTenants {
    scope: Scope,
}

impl InMemoryTenants {
    /// Stores `tenant` as it is (no uniqueness check), replacing one with its id.
    pub fn insert(&self, tenant: Tenant) {
        self.scope.write(|tables| {
            tables.tenants.insert(tenant.id.as_uuid(), tenant);
        });
    }

    /// Every tenant, in id order.
    #[must_use]
    pub fn all(&self) -> Vec<Tenant> {
        self.scope
            .read(|tables| tables.tenants.values().cloned().collect())
    }
}

#[async_trait]
impl TenantRepository for InMemoryTenants {
    async fn create(&self, tenant: &Tenant) -> Result<(), SaveTenantError> {
        self.scope.run(|tables| {
            if tables.tenants.contains_key(&tenant.id.as_uuid()) {
                return Err(unexpected("duplicate key: a tenant with this id exists").into());
            }
            if tables
                .tenants
                .values()
                .any(|stored| stored.slug == tenant.slug)
            {
                return Err(SaveTenantError::SlugTaken);
            }
            tables.tenants.insert(tenant.id.as_uuid(), tenant.clone());
            Ok(())
        })
    }

    async fn find_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        self.scope.run(|tables| {
            Ok(tables
                .tenants
                .values()
                .find(|tenant| &tenant.slug == slug)
                .cloned())
        })
    }

    async fn find(&self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
        self.scope
            .run(|tables| Ok(tables.tenants.get(&id.as_uuid()).cloned()))
    }

    async fn list(&self, page: PageRequest) -> Result<Page<Tenant>, StoreError> {
        self.scope.run(|tables| {
            let tenants = tables
                .tenants
                .values()
                .filter(|tenant| page.after.is_none_or(|after| tenant.id.as_uuid() > after))
                .take(overfetch(page.limit))
                .cloned()
                .collect();
            Ok(Page::from_overfetched(tenants, page.limit, |tenant| {
                tenant.id.as_uuid()
            }))
        })
    }
}

/// In-memory [`UserRepository`], scoped by tenant, with the real one's conditional writes and
/// uniqueness rules, including the release of a number held unverified for longer than
/// [`UNVERIFIED_HOLD`]. Part of an [`InMemoryIdentity`]; a transaction has its own.
#[derive(Debug, Clone, Default)]
pub struct InMemoryUsers {
    scope: Scope,
}

impl InMemoryUsers {
    /// Stores `user` as it is (no uniqueness or tenant check), replacing one with its id; a
    /// number is taken as set at `created_at`.
    pub fn insert(&self, user: User) {
        self.scope.write(|tables| {
            tables.users.insert(user.id.as_uuid(), UserRow::new(user));
        });
    }

    /// Backdates when the user's number was set, to put it past (or within) its unverified hold.
    pub fn set_phone_set_at(&self, id: UserId, at: Option<DateTime<Utc>>) {
        self.scope.write(|tables| {
            if let Some(row) = tables.users.get_mut(&id.as_uuid()) {
                row.phone_set_at = at;
            }
        });
    }

    /// Deletes the user with this id as it is (no cascade), answering it: an account gone
    /// behind a use case's back.
    pub fn remove(&self, id: UserId) -> Option<User> {
        self.scope
            .write(|tables| tables.users.remove(&id.as_uuid()))
            .map(|row| row.user)
    }

    /// Every user of every tenant, in id order.
    #[must_use]
    pub fn all(&self) -> Vec<User> {
        self.scope
            .read(|tables| tables.users.values().map(|row| row.user.clone()).collect())
    }

    /// The user with this id, in any tenant.
    #[must_use]
    pub fn get(&self, id: UserId) -> Option<User> {
        self.scope
            .read(|tables| tables.users.get(&id.as_uuid()).map(|row| row.user.clone()))
    }
}

#[async_trait]
impl UserRepository for InMemoryUsers {
    async fn create(&self, user: &User) -> Result<(), SaveUserError> {
        self.scope.run(|tables| tables.create_user(user))
    }

    async fn find_by_email(
        &self,
        tenant: TenantId,
        email: &Email,
    ) -> Result<Option<User>, StoreError> {
        self.scope.run(|tables| {
            Ok(tables
                .users
                .values()
                .find(|row| row.user.tenant_id == tenant && &row.user.email == email)
                .map(|row| row.user.clone()))
        })
    }

    async fn find(&self, tenant: TenantId, id: UserId) -> Result<Option<User>, StoreError> {
        self.scope.shared.before(IdentityCall::FindUser);
        self.scope
            .run(|tables| Ok(tables.find_user(tenant, id).map(|row| row.user.clone())))
    }

    async fn find_standing(
        &self,
        tenant: TenantId,
        id: UserId,
    ) -> Result<Option<AccountStanding>, StoreError> {
        self.scope.shared.before(IdentityCall::FindUser);
        self.scope
            .run(|tables| Ok(tables.find_user(tenant, id).map(|row| row.user.standing())))
    }

    async fn find_on_platform(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.scope
            .run(|tables| Ok(tables.users.get(&id.as_uuid()).map(|row| row.user.clone())))
    }

    async fn record_login(
        &self,
        tenant: TenantId,
        id: UserId,
        token_version: i64,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.scope.run(|tables| {
            Ok(tables.update_user_where(
                tenant,
                id,
                |user| user.is_active && user.token_version == token_version,
                |user| user.last_login_at = Some(at),
            ))
        })
    }

    async fn replace_password_hash(
        &self,
        tenant: TenantId,
        id: UserId,
        old: &PasswordHash,
        new: &PasswordHash,
    ) -> Result<bool, StoreError> {
        self.scope.run(|tables| {
            Ok(tables.update_user_where(
                tenant,
                id,
                |user| &user.password_hash == old,
                |user| user.password_hash = new.clone(),
            ))
        })
    }

    async fn update_profile(
        &self,
        tenant: TenantId,
        id: UserId,
        update: &ProfileUpdate,
    ) -> Result<bool, SaveUserError> {
        self.scope.shared.before(IdentityCall::UpdateProfile);
        self.scope
            .run(|tables| tables.update_profile(tenant, id, update))
    }

    async fn mark_phone_verified(
        &self,
        tenant: TenantId,
        id: UserId,
        phone: &PhoneNumber,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.scope.run(|tables| {
            Ok(tables.update_user_where(
                tenant,
                id,
                |user| user.phone.as_ref() == Some(phone),
                |user| {
                    user.phone_verified = true;
                    user.updated_at = at;
                },
            ))
        })
    }

    async fn set_access(
        &self,
        id: UserId,
        is_active: Option<bool>,
        role: Option<Role>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.scope.run(|tables| {
            let Some(tenant) = tables
                .users
                .get(&id.as_uuid())
                .map(|row| row.user.tenant_id)
            else {
                return Ok(false);
            };
            Ok(tables.update_user_where(
                tenant,
                id,
                |_| true,
                |user| {
                    user.updated_at = at;
                    match is_active {
                        Some(false) => user.deactivate(at),
                        Some(true) if !user.is_active => user.reactivate(at),
                        _ => {}
                    }
                    if let Some(role) = role {
                        user.role = role;
                    }
                },
            ))
        })
    }

    async fn revoke_tokens(
        &self,
        tenant: TenantId,
        id: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.scope.run(|tables| {
            tables.update_user_where(tenant, id, |_| true, |user| user.revoke_tokens(at));
            Ok(())
        })
    }

    async fn erase(&self, tenant: TenantId, id: UserId) -> Result<bool, StoreError> {
        let erased = self.scope.run(|tables| Ok(tables.erase_user(tenant, id)))?;
        let in_transaction = self.scope.read(|tables| tables.tracked);
        if erased && !in_transaction {
            self.scope.shared.erased(&[(tenant, id)]);
        }
        Ok(erased)
    }

    async fn export_page(
        &self,
        tenant: TenantId,
        id: UserId,
        table: ExportTable,
        after: Option<String>,
        limit: u64,
    ) -> Result<ExportPage, StoreError> {
        self.scope
            .run(|tables| tables.export_page(tenant, id, table, after, limit))
    }
}

/// In-memory [`RefreshTokenRepository`]: token hashes are unique, a token needs its user,
/// rotation is a compare-and-set on the old token still being live. Part of an
/// [`InMemoryIdentity`]; a transaction has its own.
#[derive(Debug, Clone, Default)]
pub struct InMemoryRefreshTokens {
    scope: Scope,
}

impl InMemoryRefreshTokens {
    /// Stores `record` as it is (no checks), replacing one with its id.
    pub fn insert_record(&self, record: RefreshTokenRecord) {
        self.scope.write(|tables| {
            tables.refresh_tokens.insert(record.id, record);
        });
    }

    /// Every token of every user, in id order.
    #[must_use]
    pub fn all(&self) -> Vec<RefreshTokenRecord> {
        self.scope
            .read(|tables| tables.refresh_tokens.values().cloned().collect())
    }

    /// The token with this id.
    #[must_use]
    pub fn get(&self, id: Uuid) -> Option<RefreshTokenRecord> {
        self.scope
            .read(|tables| tables.refresh_tokens.get(&id).cloned())
    }
}

#[async_trait]
impl RefreshTokenRepository for InMemoryRefreshTokens {
    async fn insert(&self, record: &RefreshTokenRecord) -> Result<(), StoreError> {
        self.scope.run(|tables| tables.insert_token(record))
    }

    async fn find_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.scope.run(|tables| {
            Ok(tables
                .refresh_tokens
                .values()
                .find(|record| record.token_hash == token_hash)
                .cloned())
        })
    }

    async fn rotate(
        &self,
        old: Uuid,
        new: &RefreshTokenRecord,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.scope.shared.before(IdentityCall::RotateRefreshToken);
        self.scope.run(|tables| {
            let live = tables
                .refresh_tokens
                .get(&old)
                .is_some_and(|record| record.revoked_at.is_none());
            if !live {
                return Ok(false);
            }
            // Checked before the old token is touched: a failed insert rolls the whole back.
            tables.check_new_token(new)?;
            if let Some(record) = tables.refresh_tokens.get_mut(&old) {
                record.revoked_at = Some(at);
                record.replaced_by = Some(new.id);
            }
            tables.touch_token(old);
            tables.insert_token(new)?;
            Ok(true)
        })
    }

    async fn revoke_family(
        &self,
        user: UserId,
        family: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.scope.run(|tables| {
            tables.revoke_tokens_where(at, |record| {
                record.user_id == user && record.family_id == family
            });
            Ok(())
        })
    }

    async fn revoke_all(&self, user: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.scope.run(|tables| {
            tables.revoke_tokens_where(at, |record| record.user_id == user);
            Ok(())
        })
    }

    async fn family_started_at(&self, family: Uuid) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.scope.run(|tables| {
            Ok(tables
                .refresh_tokens
                .values()
                .filter(|record| record.family_id == family)
                .map(|record| record.created_at)
                .min())
        })
    }

    async fn list_for_user(&self, user: UserId) -> Result<Vec<RefreshTokenRecord>, StoreError> {
        self.scope.run(|tables| {
            Ok(tables
                .refresh_tokens
                .values()
                .filter(|record| record.user_id == user)
                .cloned()
                .collect())
        })
    }
}

/// In-memory [`UnitOfWork`]: a transaction works on a copy of the identity tables taken when it
/// begins; its commit writes back the rows it changed, and dropping it writes nothing.
#[derive(Debug, Clone, Default)]
pub struct InMemoryUnitOfWork {
    live: Scope,
}

#[async_trait]
impl UnitOfWork for InMemoryUnitOfWork {
    async fn begin(&self) -> Result<Box<dyn Transaction>, StoreError> {
        self.live.shared.outage.check()?;
        let mut copy = self.live.read(Tables::clone);
        copy.tracked = true;
        copy.changes = Changes::default();
        let work = Scope {
            tables: Arc::new(Mutex::new(copy)),
            shared: Arc::clone(&self.live.shared),
        };
        Ok(Box::new(InMemoryTransaction {
            live: self.live.clone(),
            users: InMemoryUsers {
                scope: work.clone(),
            },
            refresh_tokens: InMemoryRefreshTokens {
                scope: work.clone(),
            },
            audit_log: InMemoryAuditLog::over(work.clone()),
            work,
        }))
    }
}

/// One open transaction of an [`InMemoryUnitOfWork`].
#[derive(Debug)]
struct InMemoryTransaction {
    live: Scope,
    work: Scope,
    users: InMemoryUsers,
    refresh_tokens: InMemoryRefreshTokens,
    audit_log: InMemoryAuditLog,
}

#[async_trait]
impl Transaction for InMemoryTransaction {
    fn users(&self) -> &dyn UserRepository {
        &self.users
    }

    fn refresh_tokens(&self) -> &dyn RefreshTokenRepository {
        &self.refresh_tokens
    }

    fn audit_log(&self) -> &dyn AuditLog {
        &self.audit_log
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let shared = &self.live.shared;
        shared.outage.check()?;
        if shared.fail_commits.load(Ordering::SeqCst) {
            return Err(unexpected("the commit failed (as the test asked)"));
        }
        let erased = {
            let work = lock(&self.work.tables);
            lock(&self.live.tables).apply(&work);
            work.changes.erased.clone()
        };
        shared.commits.fetch_add(1, Ordering::SeqCst);
        shared.erased(&erased);
        Ok(())
    }
}

/// The version tag of hashes made with today's parameters.
const CURRENT_PARAMETERS: &str = "v2";
/// The version tag of hashes made with older parameters: they verify and ask for a rehash.
const OLDER_PARAMETERS: &str = "v1";

/// A [`PasswordHasher`] without the cost: a hash is `fake$<version>$<salt>$<password>`, with a
/// fresh salt each time, so two hashes of one password differ as real ones do. A hash made with
/// older parameters ([`FakeHasher::outdated_hash_of`]) verifies as `MatchNeedsRehash`; anything
/// else that is not such a hash fails as unreadable. Clones share the switches and counters.
#[derive(Debug, Clone, Default)]
pub struct FakeHasher {
    busy: Arc<AtomicBool>,
    during_verify: Arc<Mutex<Option<Interruption>>>,
    salts: Arc<AtomicU64>,
    hashes: Arc<AtomicU64>,
    verifications: Arc<AtomicU64>,
    dummy_verifications: Arc<AtomicU64>,
}

impl FakeHasher {
    /// A hasher with free slots.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A hash of `password` with today's parameters, to seed users with.
    #[must_use]
    pub fn hash_of(password: &str) -> PasswordHash {
        PasswordHash::new(format!("fake${CURRENT_PARAMETERS}$seed${password}"))
    }

    /// A hash of `password` with older parameters: it verifies, and asks to be replaced.
    #[must_use]
    pub fn outdated_hash_of(password: &str) -> PasswordHash {
        PasswordHash::new(format!("fake${OLDER_PARAMETERS}$seed${password}"))
    }

    /// Makes every call answer [`HasherError::Busy`] (`true`), as a full queue does, or not.
    pub fn set_busy(&self, busy: bool) {
        self.busy.store(busy, Ordering::SeqCst);
    }

    /// Runs `hook` once, during the next verification against a stored hash (the slow part of
    /// a login, a password change or an erasure): the way to make a concurrent request change
    /// the account while its password is checked.
    pub fn during_next_verify(&self, hook: impl FnOnce() + Send + 'static) {
        *lock(&self.during_verify) = Some(Interruption::new(hook));
    }

    /// How many hashes were made.
    #[must_use]
    pub fn hashes(&self) -> u64 {
        self.hashes.load(Ordering::SeqCst)
    }

    /// How many passwords were verified against a stored hash.
    #[must_use]
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::SeqCst)
    }

    /// How many dummy verifications (unknown accounts) were spent.
    #[must_use]
    pub fn dummy_verifications(&self) -> u64 {
        self.dummy_verifications.load(Ordering::SeqCst)
    }

    fn admit(&self) -> Result<(), HasherError> {
        if self.busy.load(Ordering::SeqCst) {
            Err(HasherError::Busy)
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl PasswordHasher for FakeHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HasherError> {
        self.admit()?;
        self.hashes.fetch_add(1, Ordering::SeqCst);
        let salt = self.salts.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(PasswordHash::new(format!(
            "fake${CURRENT_PARAMETERS}$s{salt}${}",
            password.expose()
        )))
    }

    async fn verify(
        &self,
        candidate: &Secret,
        hash: &PasswordHash,
    ) -> Result<PasswordCheck, HasherError> {
        self.admit()?;
        self.verifications.fetch_add(1, Ordering::SeqCst);
        let interruption = lock(&self.during_verify).take();
        if let Some(interruption) = interruption {
            interruption.run();
        }
        let unreadable = || HasherError::Failed("the stored hash is not a fake hash".to_owned());
        let (version, rest) = hash
            .as_str()
            .strip_prefix("fake$")
            .and_then(|rest| rest.split_once('$'))
            .ok_or_else(unreadable)?;
        let (_salt, password) = rest.split_once('$').ok_or_else(unreadable)?;
        if password != candidate.expose() {
            return Ok(PasswordCheck::Mismatch);
        }
        match version {
            CURRENT_PARAMETERS => Ok(PasswordCheck::Match),
            OLDER_PARAMETERS => Ok(PasswordCheck::MatchNeedsRehash),
            _ => Err(unreadable()),
        }
    }

    async fn verify_dummy(&self, _candidate: &Secret) -> Result<(), HasherError> {
        self.admit()?;
        self.dummy_verifications.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn has_room(&self) -> bool {
        self.admit().is_ok()
    }
}

/// Clock skew tolerated on expiry, as the real service allows.
const LEEWAY_SECS: i64 = 5;

/// A [`TokenService`] whose access tokens are readable text with a checksum
/// (`fake.<user>.<tenant>.<role>.<version>.<expiry>.<n>.<signature>`): an issued token
/// verifies to its claims until it expires on the given clock (with the real service's 5 s of
/// leeway); an altered token, or one signed with another key, is refused. Refresh tokens are
/// `refresh-<n>`, hashed as `hashed:<token>`. Clones share the counter and the switch.
#[derive(Clone)]
pub struct FakeTokens {
    clock: Arc<dyn Clock>,
    key: String,
    access_ttl: Duration,
    refresh_ttl: Duration,
    session_lifetime: Duration,
    issued: Arc<AtomicU64>,
    signing_fails: Arc<AtomicBool>,
}

impl std::fmt::Debug for FakeTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTokens")
            .field("key", &self.key)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("session_lifetime", &self.session_lifetime)
            .finish_non_exhaustive()
    }
}

impl FakeTokens {
    /// Tokens checked against `clock`, with the default lifetimes: 15 minutes for access
    /// tokens, 30 days for refresh tokens and sessions.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            key: "fake-signing-key".to_owned(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(2_592_000),
            session_lifetime: Duration::from_secs(2_592_000),
            issued: Arc::default(),
            signing_fails: Arc::default(),
        }
    }

    /// The same service signing with `key`: its tokens are refused by a service with another.
    #[must_use]
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// The same service with another access-token lifetime.
    #[must_use]
    pub const fn with_access_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = ttl;
        self
    }

    /// The same service with another refresh-token lifetime.
    #[must_use]
    pub const fn with_refresh_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = ttl;
        self
    }

    /// The same service with another absolute session lifetime.
    #[must_use]
    pub const fn with_session_lifetime(mut self, lifetime: Duration) -> Self {
        self.session_lifetime = lifetime;
        self
    }

    /// Makes signing access tokens fail (`true`) or work again.
    pub fn set_signing_fails(&self, fails: bool) {
        self.signing_fails.store(fails, Ordering::SeqCst);
    }

    fn signature(&self, payload: &str) -> String {
        let mut hasher = DefaultHasher::new();
        self.key.hash(&mut hasher);
        payload.hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    }
}

fn rejected(reason: &str) -> TokenRejected {
    TokenRejected(reason.to_owned())
}

impl TokenService for FakeTokens {
    fn issue_access(
        &self,
        claims: &AccessClaims,
        now: DateTime<Utc>,
    ) -> Result<AccessToken, TokenRejected> {
        if self.signing_fails.load(Ordering::SeqCst) {
            return Err(rejected("signing failed (as the test asked)"));
        }
        let ttl = self.access_ttl.as_secs();
        let expires = now.timestamp() + i64::try_from(ttl).map_err(|_| rejected("ttl"))?;
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let payload = format!(
            "{}.{}.{}.{}.{expires}.{n}",
            claims.user_id,
            claims.tenant_id,
            claims.role.as_str(),
            claims.token_version
        );
        Ok(AccessToken {
            token: Secret::new(format!("fake.{payload}.{}", self.signature(&payload))),
            expires_in_secs: ttl,
        })
    }

    fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenRejected> {
        let (payload, signature) = token
            .strip_prefix("fake.")
            .and_then(|rest| rest.rsplit_once('.'))
            .ok_or_else(|| rejected("InvalidToken"))?;
        if signature != self.signature(payload) {
            return Err(rejected("InvalidSignature"));
        }
        let fields: Vec<&str> = payload.split('.').collect();
        let [user, tenant, role, version, expires, _n] = fields.as_slice() else {
            return Err(rejected("InvalidToken"));
        };
        let invalid = |_| rejected("InvalidToken");
        let expires: i64 = expires.parse().map_err(invalid)?;
        if self.clock.now().timestamp() > expires + LEEWAY_SECS {
            return Err(rejected("ExpiredSignature"));
        }
        Ok(AccessClaims {
            user_id: UserId::from_uuid(Uuid::parse_str(user).map_err(|_| rejected("sub"))?),
            tenant_id: TenantId::from_uuid(Uuid::parse_str(tenant).map_err(|_| rejected("tid"))?),
            role: role.parse().map_err(|_| rejected("role"))?,
            token_version: version.parse().map_err(|_| rejected("ver"))?,
        })
    }

    fn new_refresh_token(&self) -> NewRefreshToken {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let token = format!("refresh-{n}");
        NewRefreshToken {
            token_hash: self.hash_refresh_token(&token),
            token: Secret::new(token),
        }
    }

    fn hash_refresh_token(&self, token: &str) -> String {
        format!("hashed:{token}")
    }

    fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    fn session_lifetime(&self) -> Duration {
        self.session_lifetime
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use domain::identity::FullName;

    use super::*;
    use crate::testing::system::{ManualClock, START};

    fn tenant(slug: &str, n: u128) -> Tenant {
        Tenant {
            id: TenantId::from_uuid(Uuid::from_u128(n)),
            slug: TenantSlug::parse(slug).unwrap(),
            name: slug.to_owned(),
            signup_open: true,
            created_at: START,
        }
    }

    fn user(tenant: &Tenant, email: &str, n: u128) -> User {
        User {
            id: UserId::from_uuid(Uuid::from_u128(n)),
            tenant_id: tenant.id,
            email: Email::parse(email).unwrap(),
            full_name: FullName::parse("Ada").unwrap(),
            phone: None,
            phone_verified: false,
            password_hash: FakeHasher::hash_of("correct horse battery"),
            role: Role::Member,
            is_active: true,
            sms_opt_in: false,
            flagged: false,
            token_version: 0,
            tokens_valid_after: None,
            created_at: START,
            updated_at: START,
            last_login_at: None,
        }
    }

    #[tokio::test]
    async fn an_email_is_unique_per_tenant_only() {
        let identity = InMemoryIdentity::new(Outage::default());
        let (green, blue) = (tenant("green", 1), tenant("blue", 2));
        identity.tenants().insert(green.clone());
        identity.tenants().insert(blue.clone());
        let users = identity.users();
        users
            .create(&user(&green, "ada@example.com", 10))
            .await
            .unwrap();
        let again = users.create(&user(&green, "ADA@example.com", 11)).await;
        assert!(matches!(again, Err(SaveUserError::EmailTaken)));
        users
            .create(&user(&blue, "ada@example.com", 12))
            .await
            .unwrap();
        let other_tenant = users
            .find(blue.id, UserId::from_uuid(Uuid::from_u128(10)))
            .await
            .unwrap();
        assert!(other_tenant.is_none(), "another tenant's user is not found");
    }

    #[tokio::test]
    async fn a_transaction_writes_only_when_committed() {
        let identity = InMemoryIdentity::new(Outage::default());
        let green = tenant("green", 1);
        identity.tenants().insert(green.clone());
        let ada = user(&green, "ada@example.com", 10);
        identity.users().insert(ada.clone());
        let unit_of_work = identity.unit_of_work();

        let dropped = unit_of_work.begin().await.unwrap();
        dropped
            .users()
            .revoke_tokens(green.id, ada.id, START)
            .await
            .unwrap();
        let inside = dropped
            .users()
            .find(green.id, ada.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            inside.token_version, 1,
            "the transaction sees its own write"
        );
        drop(dropped);
        assert_eq!(identity.users().get(ada.id).unwrap().token_version, 0);

        let committed = unit_of_work.begin().await.unwrap();
        committed.users().erase(green.id, ada.id).await.unwrap();
        assert!(
            identity.users().get(ada.id).is_some(),
            "not before the commit"
        );
        committed.commit().await.unwrap();
        assert!(identity.users().get(ada.id).is_none());
        assert_eq!(identity.commits(), 1);
    }

    #[test]
    fn an_access_token_verifies_to_its_claims_until_it_expires() {
        let clock = ManualClock::new();
        let tokens = FakeTokens::new(Arc::new(clock.clone()));
        let claims = AccessClaims {
            user_id: UserId::from_uuid(Uuid::from_u128(10)),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            role: Role::Admin,
            token_version: 3,
        };
        let token = tokens.issue_access(&claims, clock.now()).unwrap();
        assert_eq!(tokens.verify_access(token.token.expose()), Ok(claims));
        let forged = tokens.clone().with_key("another key");
        assert!(forged.verify_access(token.token.expose()).is_err());
        clock.advance(TimeDelta::seconds(900 + LEEWAY_SECS + 1));
        assert_eq!(
            tokens.verify_access(token.token.expose()),
            Err(rejected("ExpiredSignature"))
        );
    }
}
