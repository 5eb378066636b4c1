//! The composition root: every use case built from one set of adapters.
//!
//! Production (`crates/server`), the HTTP tests and the use-case tests over fakes all call
//! [`compose`], so a use case is wired one way everywhere: one clock, one id generator, one set of
//! feature flags and one metrics registry shared by every use case. What differs between them is
//! only which adapters they hand in.

use std::{sync::Arc, time::Duration};

use crate::{
    admin::{
        Administration, AdministrationPorts,
        ports::{AdminKeyring, AuditLog, SmsLogQueries},
    },
    catalog::{
        Catalog,
        ports::{CatalogCache, CatalogRepository},
    },
    chat::{ChatModel, ConversationPorts, Conversations, ports::MessageRepository},
    flags::{FeatureFlags, FlagStore, Switchboard},
    gardens::{
        GardenPorts, Gardens,
        ports::{ComplianceAudit, GardenRepository, PlantingRepository},
    },
    idempotency::{Idempotency, IdempotencyStore},
    identity::{
        Identity, IdentityPorts,
        ports::{
            PasswordHasher, RefreshTokenRepository, TenantRepository, TokenService, UserRepository,
        },
    },
    metrics::Metrics,
    ops::{
        CheckHealth, ConnectionPools, DatabaseInspector, HealthProbe, Retention, RetentionStore,
    },
    plants::{PlantPorts, Plants, ports::UserPlantRepository},
    ratelimit::{RateLimitStore, RateLimiter},
    sms::{
        InboundPorts, InboundTexts, PhoneVerification, PhoneVerificationPorts, ReminderPorts,
        Reminders, SmsCaps, SmsOutbox, SmsOutboxPorts, SmsSender, WebhookGate,
        ports::{InboundSmsLog, ReminderQueue, SmsAccounts, SmsLog, VerificationCodes},
    },
    system::{Clock, IdGenerator, StopSignal},
    unit_of_work::UnitOfWork,
};

/// Every port backed by the database, one adapter each.
#[derive(Clone)]
pub struct Stores {
    pub tenants: Arc<dyn TenantRepository>,
    /// Users of every tenant.
    pub users: Arc<dyn UserRepository>,
    /// Refresh tokens (sessions).
    pub refresh_tokens: Arc<dyn RefreshTokenRepository>,
    /// Transactions over the repositories above and the audit log.
    pub unit_of_work: Arc<dyn UnitOfWork>,
    /// The admin audit log.
    pub audit_log: Arc<dyn AuditLog>,
    /// The SMS log, as the outbox writes it.
    pub sms_log: Arc<dyn SmsLog>,
    /// The SMS log, as administrators read it.
    pub sms_log_queries: Arc<dyn SmsLogQueries>,
    /// The compliance audit of restricted plantings.
    pub compliance: Arc<dyn ComplianceAudit>,
    /// Migrations, pools and tables, read only.
    pub database: Arc<dyn DatabaseInspector>,
    /// The stored feature flags.
    pub flag_store: Arc<dyn FlagStore>,
    /// Species, personalities, restrictions and companions.
    pub catalog: Arc<dyn CatalogRepository>,
    /// Users' plants.
    pub user_plants: Arc<dyn UserPlantRepository>,
    /// Chat messages.
    pub messages: Arc<dyn MessageRepository>,
    pub gardens: Arc<dyn GardenRepository>,
    /// Plantings and their events.
    pub plantings: Arc<dyn PlantingRepository>,
    /// Accounts by phone number, for the SMS channel.
    pub sms_accounts: Arc<dyn SmsAccounts>,
    /// Inbound texts already received.
    pub inbound_log: Arc<dyn InboundSmsLog>,
    /// Phone verification codes.
    pub verification_codes: Arc<dyn VerificationCodes>,
    /// The reminder schedule.
    pub reminder_queue: Arc<dyn ReminderQueue>,
    /// Stored answers of create requests, for replays.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// What the retention job deletes.
    pub retention: Arc<dyn RetentionStore>,
}

/// Where rate-limit counters live; both are asked, the shared one first.
#[derive(Clone)]
pub struct RateLimitStores {
    /// Counters shared by every instance (Redis), when configured.
    pub shared: Option<Arc<dyn RateLimitStore>>,
    /// This instance's counters: the fallback when the shared store fails.
    pub local: Arc<dyn RateLimitStore>,
}

/// One adapter for every port the use cases need.
#[derive(Clone)]
pub struct Adapters {
    /// Everything backed by the database.
    pub stores: Stores,
    /// Where catalog snapshots are cached.
    pub catalog_cache: Arc<dyn CatalogCache>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Access and refresh tokens.
    pub tokens: Arc<dyn TokenService>,
    /// The platform administrators' keys.
    pub admin_keyring: Arc<dyn AdminKeyring>,
    /// The chat model; `None` answers every chat from templates.
    pub chat_model: Option<Arc<dyn ChatModel>>,
    /// The SMS provider (or demo mode).
    pub sms_sender: Arc<dyn SmsSender>,
    /// Who may call the SMS provider's webhooks.
    pub webhook_gate: WebhookGate,
    /// This instance's feature flags, kept in step with `stores.flag_store` by the switchboard.
    pub flags: Arc<dyn FeatureFlags>,
    /// Rate-limit counters; `None` turns rate limiting off.
    pub rate_limits: Option<RateLimitStores>,
    /// What the deep health check asks, in the order it reports them.
    pub health_probes: Vec<Arc<dyn HealthProbe>>,
    /// The time, for every use case.
    pub clock: Arc<dyn Clock>,
    /// New ids, for every use case.
    pub ids: Arc<dyn IdGenerator>,
    /// Where the use cases count what they do.
    pub metrics: Metrics,
}

/// The numbers and addresses the use cases are built with, read from the configuration.
#[derive(Debug, Clone)]
pub struct Tunables {
    /// The daily SMS caps.
    pub sms_caps: SmsCaps,
    /// Where the SMS provider reports delivery; `None` when no public URL is configured.
    pub sms_status_callback: Option<String>,
    /// How long one health probe may take before it counts as down.
    pub probe_timeout: Duration,
}

/// Every use case, built by [`compose`].
#[derive(Clone)]
pub struct UseCases {
    /// The deep health check.
    pub health: CheckHealth,
    /// Accounts, sessions and profiles.
    pub identity: Identity,
    /// Platform administration.
    pub admin: Administration,
    /// The public catalog.
    pub catalog: Catalog,
    /// Users' plants.
    pub plants: Plants,
    /// Conversations with plants.
    pub conversations: Conversations,
    /// Gardens and plantings.
    pub gardens: Gardens,
    /// Who may call the SMS webhooks.
    pub webhook_gate: WebhookGate,
    /// Texts from owners.
    pub inbound_texts: InboundTexts,
    /// Outgoing SMS, their retries and delivery reports.
    pub outbox: SmsOutbox,
    /// Due care reminders.
    pub reminders: Reminders,
    /// Verifying phone numbers.
    pub phone_verification: PhoneVerification,
    /// Replays of create requests.
    pub idempotency: Idempotency,
    /// The rate limiter; `None` when rate limiting is off.
    pub rate_limiter: Option<RateLimiter>,
    /// The daily retention job.
    pub retention: Retention,
    /// The feature flags, stored and in memory.
    pub switchboard: Switchboard,
    /// This instance's feature flags.
    pub flags: Arc<dyn FeatureFlags>,
    /// Where the use cases count what they do.
    pub metrics: Metrics,
    /// The database's connection pools, for the metrics.
    pub pools: Arc<dyn ConnectionPools>,
    /// Raised at shutdown: the SMS workers stop after their current item.
    pub stop: StopSignal,
}

/// Adapters and use cases hold trait objects: their `Debug` names the type only.
macro_rules! opaque_debug {
    ($($name:ident),+) => {$(
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    )+};
}

opaque_debug!(Stores, RateLimitStores, Adapters, UseCases);

/// Builds every use case over `adapters`.
#[must_use]
pub fn compose(adapters: Adapters, tunables: Tunables) -> UseCases {
    let Adapters {
        stores,
        catalog_cache,
        hasher,
        tokens,
        admin_keyring,
        chat_model,
        sms_sender,
        webhook_gate,
        flags,
        rate_limits,
        health_probes,
        clock,
        ids,
        metrics,
    } = adapters;
    let pools: Arc<dyn ConnectionPools> = stores.database.clone();
    let switchboard = Switchboard::new(stores.flag_store, flags.clone(), clock.clone());
    let identity = Identity::new(IdentityPorts {
        tenants: stores.tenants.clone(),
        users: stores.users.clone(),
        refresh_tokens: stores.refresh_tokens,
        hasher,
        tokens,
        unit_of_work: stores.unit_of_work.clone(),
        clock: clock.clone(),
        ids: ids.clone(),
    });
    let admin = Administration::new(AdministrationPorts {
        keyring: admin_keyring,
        audit_log: stores.audit_log,
        sms_log: stores.sms_log_queries,
        tenants: stores.tenants,
        users: stores.users.clone(),
        flags: switchboard.clone(),
        compliance: stores.compliance.clone(),
        database: stores.database,
        unit_of_work: stores.unit_of_work,
        clock: clock.clone(),
        ids: ids.clone(),
    });
    let catalog = Catalog::new(stores.catalog, catalog_cache);
    let plants = Plants::new(PlantPorts {
        plants: stores.user_plants.clone(),
        catalog: catalog.clone(),
        clock: clock.clone(),
        ids: ids.clone(),
    });
    let conversations = Conversations::new(ConversationPorts {
        plants: stores.user_plants.clone(),
        messages: stores.messages,
        catalog: catalog.clone(),
        model: chat_model,
        flags: flags.clone(),
        clock: clock.clone(),
        ids: ids.clone(),
    })
    .recording_into(metrics.clone());
    let gardens = Gardens::new(GardenPorts {
        gardens: stores.gardens,
        plantings: stores.plantings,
        compliance: stores.compliance,
        catalog: catalog.clone(),
        flags: flags.clone(),
        clock: clock.clone(),
        ids: ids.clone(),
    })
    .recording_into(metrics.clone());
    let stop = StopSignal::new();
    let outbox = SmsOutbox::new(SmsOutboxPorts {
        sender: sms_sender,
        log: stores.sms_log,
        accounts: stores.sms_accounts.clone(),
        reminder_texts: Arc::new(conversations.clone()),
        status_callback: tunables.sms_status_callback,
        caps: tunables.sms_caps,
        clock: clock.clone(),
        ids: ids.clone(),
        stop: stop.clone(),
    })
    .recording_into(metrics.clone());
    let inbound_texts = InboundTexts::new(InboundPorts {
        accounts: stores.sms_accounts,
        received: stores.inbound_log,
        plants: stores.user_plants,
        conversations: conversations.clone(),
        clock: clock.clone(),
    });
    let phone_verification = PhoneVerification::new(PhoneVerificationPorts {
        users: stores.users,
        codes: stores.verification_codes,
        outbox: outbox.clone(),
        clock: clock.clone(),
        ids,
    });
    let reminders = Reminders::new(ReminderPorts {
        queue: stores.reminder_queue,
        outbox: outbox.clone(),
        flags: flags.clone(),
        clock: clock.clone(),
    });
    let rate_limiter = rate_limits.map(|rate_limits| {
        RateLimiter::new(rate_limits.shared, rate_limits.local, clock.clone())
            .recording_into(metrics.clone())
    });
    UseCases {
        health: CheckHealth::new(health_probes, tunables.probe_timeout),
        identity,
        admin,
        catalog,
        plants,
        conversations,
        gardens,
        webhook_gate,
        inbound_texts,
        outbox,
        reminders,
        phone_verification,
        idempotency: Idempotency::new(stores.idempotency, clock.clone()),
        rate_limiter,
        retention: Retention::new(stores.retention, clock),
        switchboard,
        flags,
        metrics,
        pools,
        stop,
    }
}
