//! Feature flags in memory: this instance's switches, and the store every instance shares.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Outage, lock};
use crate::{
    flags::{FeatureFlags, Flag, FlagStore, FlagValues},
    store::StoreError,
};

/// This instance's [`FeatureFlags`]: every flag on unless switched off, as the HTTP tests
/// configure the real ones. Clones share the switches.
#[derive(Debug, Clone, Default)]
pub struct FakeFlags {
    off: Arc<Mutex<BTreeSet<Flag>>>,
}

impl FakeFlags {
    /// Every flag on.
    #[must_use]
    pub fn all_on() -> Self {
        Self::default()
    }

    /// Every flag off.
    #[must_use]
    pub fn all_off() -> Self {
        Self {
            off: Arc::new(Mutex::new(Flag::ALL.into_iter().collect())),
        }
    }

    /// The same flags with `flag` set to `enabled`.
    #[must_use]
    pub fn with(self, flag: Flag, enabled: bool) -> Self {
        self.set(flag, enabled);
        self
    }

    /// Every flag's value now.
    #[must_use]
    pub fn values(&self) -> FlagValues {
        Flag::ALL
            .into_iter()
            .map(|flag| (flag, self.is_enabled(flag)))
            .collect()
    }
}

impl FeatureFlags for FakeFlags {
    fn is_enabled(&self, flag: Flag) -> bool {
        !lock(&self.off).contains(&flag)
    }

    fn set(&self, flag: Flag, enabled: bool) {
        let mut off = lock(&self.off);
        if enabled {
            off.remove(&flag);
        } else {
            off.insert(flag);
        }
    }
}

/// One stored flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredFlag {
    /// Its value.
    pub enabled: bool,
    /// When it was last written.
    pub updated_at: DateTime<Utc>,
}

/// In-memory [`FlagStore`]: `initialise` keeps what is stored, `save` writes every change at
/// once and answers the values it replaced (flags never stored are absent from the answer).
/// Clones share the rows.
#[derive(Debug, Clone, Default)]
pub struct InMemoryFlagStore {
    outage: Outage,
    rows: Arc<Mutex<BTreeMap<Flag, StoredFlag>>>,
}

impl InMemoryFlagStore {
    /// An empty store (no flag stored yet: a first start), down while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            rows: Arc::default(),
        }
    }

    /// Stores `flag` as `enabled`, as another instance would, written at `at`.
    pub fn insert(&self, flag: Flag, enabled: bool, at: DateTime<Utc>) {
        lock(&self.rows).insert(
            flag,
            StoredFlag {
                enabled,
                updated_at: at,
            },
        );
    }

    /// Every stored flag with when it was written.
    #[must_use]
    pub fn rows(&self) -> BTreeMap<Flag, StoredFlag> {
        lock(&self.rows).clone()
    }
}

#[async_trait]
impl FlagStore for InMemoryFlagStore {
    async fn initialise(&self, initial: &FlagValues, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.outage.check()?;
        let mut rows = lock(&self.rows);
        for (flag, enabled) in initial {
            rows.entry(*flag).or_insert(StoredFlag {
                enabled: *enabled,
                updated_at: now,
            });
        }
        Ok(())
    }

    async fn load(&self) -> Result<FlagValues, StoreError> {
        self.outage.check()?;
        Ok(lock(&self.rows)
            .iter()
            .map(|(flag, row)| (*flag, row.enabled))
            .collect())
    }

    async fn save(
        &self,
        changes: &FlagValues,
        now: DateTime<Utc>,
    ) -> Result<FlagValues, StoreError> {
        self.outage.check()?;
        let mut rows = lock(&self.rows);
        let before = changes
            .keys()
            .filter_map(|flag| rows.get(flag).map(|row| (*flag, row.enabled)))
            .collect();
        for (flag, enabled) in changes {
            rows.insert(
                *flag,
                StoredFlag {
                    enabled: *enabled,
                    updated_at: now,
                },
            );
        }
        Ok(before)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::testing::system::START;

    #[tokio::test]
    async fn initialising_keeps_stored_values_and_saving_answers_what_it_replaced() {
        let store = InMemoryFlagStore::new(Outage::default());
        store.insert(Flag::AiChat, false, START);
        let initial: FlagValues = Flag::ALL.into_iter().map(|flag| (flag, true)).collect();
        store.initialise(&initial, START).await.unwrap();
        let loaded = store.load().await.unwrap();
        assert!(!loaded[&Flag::AiChat], "the stored value is kept");
        assert!(loaded[&Flag::RuleEngine]);

        let later = START + TimeDelta::minutes(1);
        let replaced = store
            .save(&FlagValues::from([(Flag::AiChat, true)]), later)
            .await
            .unwrap();
        assert_eq!(replaced, FlagValues::from([(Flag::AiChat, false)]));
        assert_eq!(store.rows()[&Flag::AiChat].updated_at, later);
    }

    #[test]
    fn flags_start_on_and_switch_per_flag() {
        let flags = FakeFlags::all_on().with(Flag::SmsReminders, false);
        assert!(flags.is_enabled(Flag::AiChat));
        assert!(!flags.is_enabled(Flag::SmsReminders));
        assert!(!FakeFlags::all_off().is_enabled(Flag::RuleEngine));
    }
}
