//! Feature flags: switches operators flip at runtime, stored in the database, held in memory
//! by every instance and read by use cases on every call.

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{store::StoreError, system::Clock};

/// A feature that can be switched off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    /// Garden analysis findings.
    RuleEngine,
    /// Refusing restricted crops (off: record only).
    ComplianceEnforcement,
    /// Replies from the chat model (off: templates).
    AiChat,
    /// The reminders worker.
    SmsReminders,
}

impl Flag {
    /// Every flag.
    pub const ALL: [Self; 4] = [
        Self::RuleEngine,
        Self::ComplianceEnforcement,
        Self::AiChat,
        Self::SmsReminders,
    ];

    /// The stored and wire name (SPEC §5.1).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RuleEngine => "rule_engine",
            Self::ComplianceEnforcement => "compliance_enforcement",
            Self::AiChat => "ai_chat",
            Self::SmsReminders => "sms_reminders",
        }
    }

    /// The flag with this name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|flag| flag.as_str() == name)
    }
}

/// The value of every flag.
pub type FlagValues = BTreeMap<Flag, bool>;

/// The current value of each flag, in memory. Reads are cheap and never fail.
pub trait FeatureFlags: Send + Sync {
    /// Whether `flag` is on.
    fn is_enabled(&self, flag: Flag) -> bool;

    /// Switches `flag` in this instance.
    fn set(&self, flag: Flag, enabled: bool);
}

/// Where the flags are stored, shared by every instance.
#[async_trait]
pub trait FlagStore: Send + Sync {
    /// Stores `initial` for every flag not stored yet; stored values are kept.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn initialise(&self, initial: &FlagValues, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Every stored flag.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn load(&self) -> Result<FlagValues, StoreError>;

    /// Stores `changes`, in one transaction, and answers the values they replaced.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; nothing is then changed.
    async fn save(
        &self,
        changes: &FlagValues,
        now: DateTime<Utc>,
    ) -> Result<FlagValues, StoreError>;
}

/// The flags of this instance kept in step with the store: what is stored is applied here, and
/// a change made here is stored first, then applied at once.
///
/// Reloads and changes of one instance take turns: a periodic reload that read the store just
/// before a change was saved would otherwise apply its stale values after the change, undoing
/// it here until the next reload.
#[derive(Clone)]
pub struct Switchboard {
    store: Arc<dyn FlagStore>,
    flags: Arc<dyn FeatureFlags>,
    clock: Arc<dyn Clock>,
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Switchboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Switchboard").finish_non_exhaustive()
    }
}

impl Switchboard {
    /// The switchboard of `flags` over `store`.
    #[must_use]
    pub fn new(
        store: Arc<dyn FlagStore>,
        flags: Arc<dyn FeatureFlags>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            flags,
            clock,
            turn: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Stores `initial` for the flags never stored (first start), then applies what is stored.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn start(&self, initial: &FlagValues) -> Result<FlagValues, StoreError> {
        self.store.initialise(initial, self.clock.now()).await?;
        self.reload().await
    }

    /// Every flag's value in this instance.
    #[must_use]
    pub fn current(&self) -> FlagValues {
        Flag::ALL
            .into_iter()
            .map(|flag| (flag, self.flags.is_enabled(flag)))
            .collect()
    }

    /// Applies the stored values here, and answers them all.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; the values in memory are then kept.
    pub async fn reload(&self) -> Result<FlagValues, StoreError> {
        let _turn = self.turn.lock().await;
        let stored = self.store.load().await?;
        for (flag, enabled) in &stored {
            if self.flags.is_enabled(*flag) != *enabled {
                tracing::info!(flag = flag.as_str(), enabled, "feature flag changed");
                self.flags.set(*flag, *enabled);
            }
        }
        Ok(self.current())
    }

    /// Stores `changes` and applies them here at once; answers the stored values the changes
    /// replaced, and every flag's value after.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; nothing is then changed.
    pub async fn change(
        &self,
        changes: &FlagValues,
    ) -> Result<(FlagValues, FlagValues), StoreError> {
        let _turn = self.turn.lock().await;
        if changes.is_empty() {
            return Ok((FlagValues::new(), self.current()));
        }
        let replaced = self.store.save(changes, self.clock.now()).await?;
        for (flag, enabled) in changes {
            self.flags.set(*flag, *enabled);
        }
        Ok((replaced, self.current()))
    }
}
