//! Fakes for every port: in-memory adapters with the behaviour the real ones promise, so that
//! the use cases' rules are tested without a database, a network or a real clock.
//!
//! Compiled for this crate's own tests and, behind the `testing` feature, for other crates'
//! tests. Every store fake shares an [`Outage`] switch: begin one and each call reports
//! `Unavailable`, which is how the use-case tests reach their storage error variants.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use crate::store::StoreError;

pub mod admin;
pub mod catalog;
pub mod chat;
pub mod flags;
pub mod gardens;
pub mod idempotency;
pub mod identity;
pub mod ops;
pub mod plants;
pub mod ratelimit;
pub mod sms;
pub mod system;

/// Whether a fake store is down. Clones share the switch.
#[derive(Debug, Clone, Default)]
pub struct Outage(Arc<AtomicBool>);

impl Outage {
    /// From now on every call of the fakes holding this switch fails as `Unavailable`.
    pub fn begin(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// The store answers again.
    pub fn end(&self) {
        self.0.store(false, Ordering::SeqCst);
    }

    /// `Ok` while the store is up.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] during an outage.
    pub fn check(&self) -> Result<(), StoreError> {
        if self.0.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("the fake store is down".into()))
        } else {
            Ok(())
        }
    }
}

/// Locks `mutex`, carrying on after a panic elsewhere: a fake's data stays usable for the
/// assertions that follow.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One fake for every port, sharing one [`Outage`], one [`system::ManualClock`] and one id
/// sequence, composed into the use cases the way production composes its adapters. Tests
/// arrange state and inspect results through the fields, and call the use cases from
/// [`Fakes::use_cases`].
#[derive(Debug, Clone)]
pub struct Fakes {
    /// Begin it and every store fails as unavailable.
    pub outage: Outage,
    /// The time of every use case.
    pub clock: system::ManualClock,
    /// The ids every use case is given.
    pub ids: system::SequentialIds,
    /// Tenants, users, refresh tokens, the audit log and their transactions.
    pub identity: identity::InMemoryIdentity,
    /// Password hashing.
    pub hasher: identity::FakeHasher,
    /// Access and refresh tokens.
    pub tokens: identity::FakeTokens,
    /// The admin keys: `admin-key` is the one configured.
    pub keyring: admin::FakeKeyring,
    /// Pools, migrations and tables.
    pub database: admin::FakeDatabase,
    /// Species and personalities (the sample catalog).
    pub catalog: catalog::InMemoryCatalog,
    /// Where catalog snapshots are cached.
    pub catalog_cache: catalog::InMemoryCatalogCache,
    /// Users' plants.
    pub plants: plants::InMemoryUserPlants,
    /// Chat messages.
    pub messages: chat::InMemoryMessages,
    /// The chat model (given to the use cases only when [`Fakes::with_chat_model`] says so).
    pub chat_model: chat::ScriptedChatModel,
    /// Gardens.
    pub gardens: gardens::InMemoryGardens,
    /// Plantings and their events.
    pub plantings: gardens::InMemoryPlantings,
    /// The compliance audit.
    pub compliance: gardens::InMemoryComplianceAudit,
    /// The SMS provider.
    pub sms_sender: sms::FakeSmsSender,
    /// The SMS log.
    pub sms_log: sms::InMemorySmsLog,
    /// Accounts by phone number.
    pub sms_accounts: sms::InMemorySmsAccounts,
    /// Inbound texts received.
    pub inbound_log: sms::InMemoryInboundSmsLog,
    /// Phone verification codes.
    pub verification_codes: sms::InMemoryVerificationCodes,
    /// The reminder schedule over `plants`, `sms_accounts` and `sms_log`.
    pub reminder_queue: sms::InMemoryReminderQueue,
    /// Twilio's webhook signatures.
    pub signatures: sms::FakeSignatureVerifier,
    /// This instance's feature flags (all on).
    pub flags: flags::FakeFlags,
    /// The stored feature flags.
    pub flag_store: flags::InMemoryFlagStore,
    /// Stored answers of create requests.
    pub idempotency: idempotency::InMemoryIdempotencyStore,
    /// Rate-limit counters shared by instances.
    pub rate_limits: ratelimit::InMemoryRateLimitStore,
    /// What the retention job deletes.
    pub retention: ops::InMemoryRetentionStore,
    /// Whether the use cases get `chat_model`; without it chat answers from templates.
    pub use_chat_model: bool,
}

/// The admin key [`Fakes`] configures.
pub const ADMIN_KEY: &str = "admin-key-for-the-use-case-tests";

/// The Twilio account [`Fakes`]' webhook gate expects.
pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000000";

impl Default for Fakes {
    fn default() -> Self {
        Self::new()
    }
}

impl Fakes {
    /// Every fake, up, with the sample catalog (its species known to the plants store) and every
    /// flag on.
    #[must_use]
    pub fn new() -> Self {
        let outage = Outage::default();
        let clock = system::ManualClock::new();
        let ids = system::SequentialIds::new();
        let identity = identity::InMemoryIdentity::new(outage.clone());
        let idempotency = idempotency::InMemoryIdempotencyStore::new(outage.clone());
        let messages = chat::InMemoryMessages::new(outage.clone());
        let plants = plants::InMemoryUserPlants::with_messages(outage.clone(), messages.clone());
        let catalog = catalog::InMemoryCatalog::sample(outage.clone());
        // The plants table's foreign key: plants of the catalog's species can be created.
        for species in catalog.stored().plants {
            plants.add_species(crate::plants::ports::CatalogSummary::from(&species));
        }
        let gardens = gardens::InMemoryGardens::new(outage.clone());
        let sms_log = sms::InMemorySmsLog::new(outage.clone());
        let sms_accounts = sms::InMemorySmsAccounts::new(outage.clone());
        let reminder_queue = sms::InMemoryReminderQueue::new(
            outage.clone(),
            plants.clone(),
            sms_accounts.clone(),
            sms_log.clone(),
        )
        .with_ids(Arc::new(ids.clone()));
        Self {
            tokens: identity::FakeTokens::new(Arc::new(clock.clone())),
            hasher: identity::FakeHasher::new(),
            keyring: admin::FakeKeyring::new(&[ADMIN_KEY]),
            database: admin::FakeDatabase::new(outage.clone()),
            catalog,
            catalog_cache: catalog::InMemoryCatalogCache::new(outage.clone()),
            chat_model: chat::ScriptedChatModel::new(),
            plantings: gardens.plantings(),
            compliance: gardens.compliance_audit(),
            gardens,
            sms_sender: sms::FakeSmsSender::default(),
            inbound_log: sms::InMemoryInboundSmsLog::new(outage.clone()),
            verification_codes: sms::InMemoryVerificationCodes::new(outage.clone()),
            signatures: sms::FakeSignatureVerifier::default(),
            flags: flags::FakeFlags::all_on(),
            flag_store: flags::InMemoryFlagStore::new(outage.clone()),
            rate_limits: ratelimit::InMemoryRateLimitStore::new(outage.clone()),
            retention: ops::InMemoryRetentionStore::new(outage.clone())
                .purging_idempotency(idempotency.clone())
                .purging_refresh_tokens(identity.clone()),
            idempotency,
            reminder_queue,
            sms_log,
            sms_accounts,
            plants,
            messages,
            identity,
            clock,
            ids,
            outage,
            use_chat_model: false,
        }
    }

    /// The same fakes, with the scripted chat model given to the use cases.
    #[must_use]
    pub fn with_chat_model(mut self) -> Self {
        self.use_chat_model = true;
        self
    }

    /// These fakes as the adapters of [`crate::compose::compose`].
    #[must_use]
    pub fn adapters(&self) -> crate::compose::Adapters {
        use crate::compose::{Adapters, RateLimitStores, Stores};
        Adapters {
            stores: Stores {
                tenants: Arc::new(self.identity.tenants()),
                users: Arc::new(self.identity.users()),
                refresh_tokens: Arc::new(self.identity.refresh_tokens()),
                unit_of_work: Arc::new(self.identity.unit_of_work()),
                audit_log: Arc::new(self.identity.audit_log()),
                sms_log: Arc::new(self.sms_log.clone()),
                sms_log_queries: Arc::new(self.sms_log.clone()),
                compliance: Arc::new(self.compliance.clone()),
                database: Arc::new(self.database.clone()),
                flag_store: Arc::new(self.flag_store.clone()),
                catalog: Arc::new(self.catalog.clone()),
                user_plants: Arc::new(self.plants.clone()),
                messages: Arc::new(self.messages.clone()),
                gardens: Arc::new(self.gardens.clone()),
                plantings: Arc::new(self.plantings.clone()),
                sms_accounts: Arc::new(self.sms_accounts.clone()),
                inbound_log: Arc::new(self.inbound_log.clone()),
                verification_codes: Arc::new(self.verification_codes.clone()),
                reminder_queue: Arc::new(self.reminder_queue.clone()),
                idempotency: Arc::new(self.idempotency.clone()),
                retention: Arc::new(self.retention.clone()),
            },
            catalog_cache: Arc::new(self.catalog_cache.clone()),
            hasher: Arc::new(self.hasher.clone()),
            tokens: Arc::new(self.tokens.clone()),
            admin_keyring: Arc::new(self.keyring.clone()),
            chat_model: self
                .use_chat_model
                .then(|| Arc::new(self.chat_model.clone()) as Arc<dyn crate::chat::ChatModel>),
            sms_sender: Arc::new(self.sms_sender.clone()),
            webhook_gate: crate::sms::WebhookGate::new(
                Arc::new(self.signatures.clone()),
                ACCOUNT_SID.to_owned(),
            ),
            flags: Arc::new(self.flags.clone()),
            rate_limits: Some(RateLimitStores {
                shared: Some(Arc::new(self.rate_limits.clone())),
                local: Arc::new(ratelimit::InMemoryRateLimitStore::default()),
            }),
            health_probes: vec![
                Arc::new(
                    ops::FakeProbe::new(domain::ops::Dependency::Database)
                        .following(self.outage.clone()),
                ),
                Arc::new(ops::FakeProbe::new(domain::ops::Dependency::Migrations)),
            ],
            clock: Arc::new(self.clock.clone()),
            ids: Arc::new(self.ids.clone()),
            metrics: crate::metrics::Metrics::default(),
        }
    }

    /// Every use case over these fakes, composed as production composes its adapters.
    #[must_use]
    pub fn use_cases(&self) -> crate::compose::UseCases {
        crate::compose::compose(
            self.adapters(),
            crate::compose::Tunables {
                sms_caps: crate::sms::SmsCaps {
                    per_recipient: 5,
                    platform: 100,
                },
                sms_status_callback: Some("https://plants.example.test/status".to_owned()),
                probe_timeout: std::time::Duration::from_secs(1),
            },
        )
    }
}

/// The `n`-th user, in a tenant of its own.
#[must_use]
pub fn owner(n: u128) -> crate::plants::Owner {
    crate::plants::Owner {
        tenant_id: domain::identity::TenantId::from_uuid(uuid::Uuid::from_u128(n)),
        user_id: domain::identity::UserId::from_uuid(uuid::Uuid::from_u128(1_000 + n)),
    }
}

/// Another user of `owner`'s tenant, and `owner`'s user id under another tenant: the two
/// callers who must never see `owner`'s data.
#[must_use]
pub fn strangers_of(owner: crate::plants::Owner) -> [crate::plants::Owner; 2] {
    [
        crate::plants::Owner {
            user_id: domain::identity::UserId::from_uuid(uuid::Uuid::from_u128(9_999)),
            ..owner
        },
        crate::plants::Owner {
            tenant_id: domain::identity::TenantId::from_uuid(uuid::Uuid::from_u128(9_999)),
            ..owner
        },
    ]
}
