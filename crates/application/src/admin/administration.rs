use std::sync::Arc;

use domain::identity::{Role, Tenant, TenantId, TenantSlug, User, UserId};
use serde_json::json;

use super::ports::{
    AdminKeyring, AuditEntry, AuditLog, AuditOutcome, KeyCheck, SmsLogEntry, SmsLogFilter,
    SmsLogQueries,
};
use crate::{
    failure::{Failure, failed_from},
    flags::{FlagValues, Switchboard},
    gardens::{ComplianceEntry, ports::ComplianceAudit},
    identity::ports::{SaveTenantError, TenantRepository, UserRepository},
    ops::{DatabaseInspector, DatabaseStatus},
    paging::{Page, PageRequest},
    store::StoreError,
    system::{Clock, IdGenerator},
    unit_of_work::UnitOfWork,
};

/// Everything the administration needs, wired by the server.
#[derive(Clone)]
pub struct AdministrationPorts {
    /// The configured keys.
    pub keyring: Arc<dyn AdminKeyring>,
    /// The audit log.
    pub audit_log: Arc<dyn AuditLog>,
    /// The SMS log, read only.
    pub sms_log: Arc<dyn SmsLogQueries>,
    pub tenants: Arc<dyn TenantRepository>,
    /// Users of every tenant.
    pub users: Arc<dyn UserRepository>,
    /// The feature flags, stored and in memory.
    pub flags: Switchboard,
    /// The compliance audit, read only.
    pub compliance: Arc<dyn ComplianceAudit>,
    /// The database's migrations, pools and tables, read only.
    pub database: Arc<dyn DatabaseInspector>,
    /// Transactions for changes that must hold together (deactivation, its revocation and
    /// its audit entry).
    pub unit_of_work: Arc<dyn UnitOfWork>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for AdministrationPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdministrationPorts")
            .finish_non_exhaustive()
    }
}

/// The platform-admin use cases. Every call, refused ones included, is written to the audit log.
#[derive(Clone)]
pub struct Administration {
    ports: AdministrationPorts,
}

impl std::fmt::Debug for Administration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Administration").finish_non_exhaustive()
    }
}

/// A caller who presented a valid admin key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminActor {
    /// The fingerprint of their key.
    pub fingerprint: String,
}

/// Why an admin call is refused before it starts.
#[derive(Debug, thiserror::Error)]
pub enum AdminRefused {
    /// No admin key is configured.
    #[error("the admin API is disabled: no admin key is configured")]
    Disabled,
    /// The key is missing or wrong.
    #[error("a valid X-Admin-API-Key is required")]
    InvalidKey,
    /// The refusal could not be audited.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new tenant, parsed.
#[derive(Debug, Clone)]
pub struct NewTenant {
    /// Unique slug.
    pub slug: TenantSlug,
    /// Display name (1-200 characters after trim).
    pub name: String,
    /// Whether anyone may sign up.
    pub signup_open: bool,
}

/// Why a tenant was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateTenantError {
    /// Another tenant has the slug.
    #[error("a tenant with this slug exists")]
    SlugTaken,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Changes an administrator makes to a user.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserChanges {
    /// Activate or deactivate.
    pub is_active: Option<bool>,
    /// New role.
    pub role: Option<Role>,
}

/// Why a user was not changed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateUserError {
    /// No such user.
    #[error("no user has this id")]
    NotFound,
    /// A failure that is not the caller's: a dependency down (503) or a bug (500).
    #[error(transparent)]
    Failed(#[from] Failure),
}

failed_from!(UpdateUserError);

const SUCCESS: AuditOutcome = AuditOutcome::Success;
const REFUSED: AuditOutcome = AuditOutcome::Refused;
const FAILED: AuditOutcome = AuditOutcome::Failed;
const INVALID: AuditOutcome = AuditOutcome::Invalid;

impl Administration {
    /// The use cases over `ports`.
    #[must_use]
    pub const fn new(ports: AdministrationPorts) -> Self {
        Self { ports }
    }

    async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<String>,
        old: Option<serde_json::Value>,
        new: Option<serde_json::Value>,
        outcome: AuditOutcome,
    ) -> Result<(), StoreError> {
        self.ports
            .audit_log
            .append(&AuditEntry {
                id: self.ports.ids.new_id(),
                actor: actor.to_owned(),
                action: action.to_owned(),
                target,
                old,
                new,
                outcome,
                created_at: self.ports.clock.now(),
            })
            .await
    }

    /// Checks the admin key presented with a call to `action`; a refusal is audited with actor
    /// `unknown`.
    ///
    /// # Errors
    /// [`AdminRefused`] when the key is missing or wrong, or the admin API is disabled.
    #[tracing::instrument(name = "admin.authorize", skip_all, fields(action))]
    pub async fn authorize(
        &self,
        presented: Option<&str>,
        action: &str,
    ) -> Result<AdminActor, AdminRefused> {
        let refusal = match self.ports.keyring.check(presented) {
            KeyCheck::Accepted { fingerprint } => return Ok(AdminActor { fingerprint }),
            KeyCheck::Disabled => AdminRefused::Disabled,
            KeyCheck::Missing | KeyCheck::Wrong => AdminRefused::InvalidKey,
        };
        tracing::warn!(action, "admin call refused");
        self.audit("unknown", action, None, None, None, REFUSED)
            .await?;
        Err(refusal)
    }

    /// Creates a tenant.
    ///
    /// # Errors
    /// [`CreateTenantError::SlugTaken`] when the slug exists.
    #[tracing::instrument(name = "admin.create_tenant", skip_all, fields(slug = %new.slug))]
    pub async fn create_tenant(
        &self,
        actor: &AdminActor,
        new: NewTenant,
    ) -> Result<Tenant, CreateTenantError> {
        let tenant = Tenant {
            id: TenantId::from_uuid(self.ports.ids.new_id()),
            slug: new.slug,
            name: new.name,
            signup_open: new.signup_open,
            created_at: self.ports.clock.now(),
        };
        let document = json!({
            "slug": tenant.slug.as_str(),
            "name": tenant.name,
            "signup_open": tenant.signup_open,
        });
        let result = self.ports.tenants.create(&tenant).await;
        let outcome = if result.is_ok() { SUCCESS } else { FAILED };
        self.audit(
            &actor.fingerprint,
            "tenants.create",
            Some(format!("tenant:{}", tenant.slug)),
            None,
            Some(document),
            outcome,
        )
        .await?;
        match result {
            Ok(()) => Ok(tenant),
            Err(SaveTenantError::SlugTaken) => Err(CreateTenantError::SlugTaken),
            Err(SaveTenantError::Store(error)) => Err(error.into()),
        }
    }

    /// Every tenant, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "admin.list_tenants", skip_all)]
    pub async fn list_tenants(
        &self,
        actor: &AdminActor,
        page: PageRequest,
    ) -> Result<Page<Tenant>, StoreError> {
        let tenants = self.ports.tenants.list(page).await?;
        self.audit(
            &actor.fingerprint,
            "tenants.list",
            None,
            None,
            None,
            SUCCESS,
        )
        .await?;
        Ok(tenants)
    }

    /// One tenant.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "admin.tenant", skip_all, fields(tenant_id = %id))]
    pub async fn tenant(
        &self,
        actor: &AdminActor,
        id: TenantId,
    ) -> Result<Option<Tenant>, StoreError> {
        let tenant = self.ports.tenants.find(id).await?;
        let outcome = if tenant.is_some() { SUCCESS } else { FAILED };
        self.audit(
            &actor.fingerprint,
            "tenants.get",
            Some(format!("tenant:{id}")),
            None,
            None,
            outcome,
        )
        .await?;
        Ok(tenant)
    }

    /// Records a call with a valid key whose request was refused for its body (malformed JSON,
    /// invalid fields) before it reached a use case: outcome `invalid`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "admin.record_invalid_request", skip_all, fields(action))]
    pub async fn record_invalid_request(
        &self,
        actor: &AdminActor,
        action: &str,
        target: Option<String>,
    ) -> Result<(), StoreError> {
        self.audit(&actor.fingerprint, action, target, None, None, INVALID)
            .await
    }

    /// Activates or deactivates a user of any tenant, or changes their role. Deactivation
    /// revokes every token of the user at once.
    ///
    /// # Errors
    /// [`UpdateUserError::NotFound`] when no user has the id.
    #[tracing::instrument(name = "admin.update_user", skip_all, fields(user_id = %id))]
    pub async fn update_user(
        &self,
        actor: &AdminActor,
        id: UserId,
        changes: UserChanges,
    ) -> Result<User, UpdateUserError> {
        let target = Some(format!("user:{id}"));
        let now = self.ports.clock.now();
        // The change, the revocation and its audit entry commit together or not at all. The
        // update locks the row, so a login racing it either commits first (and its session is
        // revoked here) or sees the revocation and starts none. (`before`, read just ahead of
        // the lock, only feeds the audit entry's `old`.)
        let transaction = self.ports.unit_of_work.begin().await?;
        let Some(before) = transaction.users().find_on_platform(id).await? else {
            drop(transaction);
            self.audit(
                &actor.fingerprint,
                "users.update",
                target,
                None,
                None,
                FAILED,
            )
            .await?;
            return Err(UpdateUserError::NotFound);
        };
        transaction
            .users()
            .set_access(id, changes.is_active, changes.role, now)
            .await?;
        if changes.is_active == Some(false) {
            transaction
                .users()
                .revoke_tokens(before.tenant_id, id, now)
                .await?;
            transaction.refresh_tokens().revoke_all(id, now).await?;
        }
        let user = transaction
            .users()
            .find_on_platform(id)
            .await?
            .ok_or(UpdateUserError::NotFound)?;
        let old = json!({"is_active": before.is_active, "role": before.role.as_str()});
        let new = json!({"is_active": user.is_active, "role": user.role.as_str()});
        transaction
            .audit_log()
            .append(&AuditEntry {
                id: self.ports.ids.new_id(),
                actor: actor.fingerprint.clone(),
                action: "users.update".to_owned(),
                target,
                old: Some(old),
                new: Some(new),
                outcome: SUCCESS,
                created_at: now,
            })
            .await?;
        transaction.commit().await?;
        Ok(user)
    }

    /// The SMS log, newest first, filtered; numbers come masked, bodies as sent. Reading it is
    /// audited.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "admin.sms_log", skip_all)]
    pub async fn sms_log(
        &self,
        actor: &AdminActor,
        filter: &SmsLogFilter,
        page: PageRequest,
    ) -> Result<Page<SmsLogEntry>, StoreError> {
        let entries = self.ports.sms_log.list(filter, page).await?;
        self.audit(
            &actor.fingerprint,
            "sms_log.list",
            None,
            None,
            None,
            SUCCESS,
        )
        .await?;
        Ok(entries)
    }

    /// The audit log, newest first. Reading it is audited too.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "admin.audit_log", skip_all)]
    pub async fn audit_log(
        &self,
        actor: &AdminActor,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError> {
        let entries = self.ports.audit_log.list(page).await?;
        self.audit(
            &actor.fingerprint,
            "audit_log.list",
            None,
            None,
            None,
            SUCCESS,
        )
        .await?;
        Ok(entries)
    }

    /// Every feature flag's value in this instance. Reading them is audited.
    ///
    /// # Errors
    /// [`StoreError`] when the audit log cannot be written.
    #[tracing::instrument(name = "admin.feature_flags", skip_all)]
    pub async fn feature_flags(&self, actor: &AdminActor) -> Result<FlagValues, StoreError> {
        self.audit(
            &actor.fingerprint,
            "feature_flags.list",
            None,
            None,
            None,
            SUCCESS,
        )
        .await?;
        Ok(self.ports.flags.current())
    }

    /// Switches the flags `changes` names, for every instance: this one at once, the others
    /// at their next refresh. The change is audited with the values before and after.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; nothing is then changed.
    #[tracing::instrument(name = "admin.change_feature_flags", skip_all)]
    pub async fn change_feature_flags(
        &self,
        actor: &AdminActor,
        changes: &FlagValues,
    ) -> Result<FlagValues, StoreError> {
        let current = self.ports.flags.current();
        let before: FlagValues = changes
            .keys()
            .filter_map(|flag| Some((*flag, *current.get(flag)?)))
            .collect();
        let result = self.ports.flags.change(changes).await;
        let (old, new, outcome) = match &result {
            Ok((replaced, after)) => (
                Some(flag_document(replaced.iter())),
                Some(flag_document(
                    after.iter().filter(|(flag, _)| changes.contains_key(*flag)),
                )),
                SUCCESS,
            ),
            Err(_) => (None, Some(flag_document(changes.iter())), FAILED),
        };
        let audited = self
            .audit(
                &actor.fingerprint,
                "feature_flags.update",
                Some("feature_flags".to_owned()),
                old,
                new,
                outcome,
            )
            .await;
        if let (Err(error), Ok((replaced, _))) = (&audited, &result) {
            // No flag change goes unaudited (SPEC §4): the flag store is not part of the audit
            // log's transaction, so the change is undone instead.
            tracing::error!(%error, "flag change not audited; undoing it");
            // Back to what the store held (what this instance believed where it held nothing).
            let undo: FlagValues = changes
                .keys()
                .filter_map(|flag| Some((*flag, *replaced.get(flag).or(before.get(flag))?)))
                .collect();
            if let Err(undo) = self.ports.flags.change(&undo).await {
                tracing::error!(error = %undo, "unaudited flag change could not be undone");
            }
        }
        audited?;
        result.map(|(_, after)| after)
    }

    /// Re-reads the stored flags into this instance. Audited.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; the values in memory are then kept.
    #[tracing::instrument(name = "admin.reload_feature_flags", skip_all)]
    pub async fn reload_feature_flags(&self, actor: &AdminActor) -> Result<FlagValues, StoreError> {
        let before = self.ports.flags.current();
        let result = self.ports.flags.reload().await;
        let outcome = if result.is_ok() { SUCCESS } else { FAILED };
        let after = result
            .as_ref()
            .ok()
            .map(|after| flag_document(after.iter()));
        self.audit(
            &actor.fingerprint,
            "feature_flags.reload",
            Some("feature_flags".to_owned()),
            Some(flag_document(before.iter())),
            after,
            outcome,
        )
        .await?;
        result
    }

    /// Every tenant's compliance audit, newest first. Reading it is audited.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    #[tracing::instrument(name = "admin.compliance_audit", skip_all)]
    pub async fn compliance_audit(
        &self,
        actor: &AdminActor,
        page: PageRequest,
    ) -> Result<Page<ComplianceEntry>, StoreError> {
        let entries = self.ports.compliance.list(None, page).await?;
        self.audit(
            &actor.fingerprint,
            "compliance_audit.list",
            None,
            None,
            None,
            SUCCESS,
        )
        .await?;
        Ok(entries)
    }

    /// The database's migrations, pools, row counts and replica lag. Reading it is audited.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be read or the audit log written.
    #[tracing::instrument(name = "admin.database_status", skip_all)]
    pub async fn database_status(&self, actor: &AdminActor) -> Result<DatabaseStatus, StoreError> {
        let status = self.ports.database.status().await?;
        self.audit(
            &actor.fingerprint,
            "database_status.read",
            None,
            None,
            None,
            SUCCESS,
        )
        .await?;
        Ok(status)
    }
}

/// Flags as the audit log stores them: `{"rule_engine": true, ...}`.
fn flag_document<'a>(
    values: impl Iterator<Item = (&'a crate::flags::Flag, &'a bool)>,
) -> serde_json::Value {
    serde_json::Value::Object(
        values
            .map(|(flag, enabled)| (flag.as_str().to_owned(), serde_json::Value::Bool(*enabled)))
            .collect(),
    )
}
