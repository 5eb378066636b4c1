//! The platform administration's ports in memory: the admin keys, the audit log (part of the
//! identity database, so transactions see it) and the database an operator inspects.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{Outage, identity::Scope, lock};
use crate::{
    admin::ports::{AdminKeyring, AuditEntry, AuditLog, KeyCheck},
    ops::{ConnectionPools, DatabaseInspector, DatabaseStatus, PoolUsage, SchemaState},
    paging::{Page, PageRequest},
    store::StoreError,
};

/// An [`AdminKeyring`] over plain configured keys. A key's fingerprint is `key:` and twelve
/// hex digits of a hash of it ([`FakeKeyring::fingerprint_of`]), as the real one's shape is;
/// no key configured closes the admin API.
#[derive(Debug, Clone, Default)]
pub struct FakeKeyring {
    keys: Vec<String>,
}

impl FakeKeyring {
    /// A keyring accepting each of `keys` (several during a rotation); none disables it.
    #[must_use]
    pub fn new(keys: &[&str]) -> Self {
        Self {
            keys: keys.iter().map(|key| (*key).to_owned()).collect(),
        }
    }

    /// The fingerprint an accepted `key` is reported with, to find it in the audit log.
    #[must_use]
    pub fn fingerprint_of(key: &str) -> String {
        // FNV-1a: stable across runs and releases, unlike the standard library's hasher.
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("key:{:012x}", hash >> 16)
    }
}

impl AdminKeyring for FakeKeyring {
    fn check(&self, presented: Option<&str>) -> KeyCheck {
        if self.keys.is_empty() {
            return KeyCheck::Disabled;
        }
        let Some(presented) = presented.filter(|key| !key.is_empty()) else {
            return KeyCheck::Missing;
        };
        if self.keys.iter().any(|key| key == presented) {
            KeyCheck::Accepted {
                fingerprint: Self::fingerprint_of(presented),
            }
        } else {
            KeyCheck::Wrong
        }
    }
}

/// In-memory [`AuditLog`]: entries keyed by id, listed newest (highest id) first with keyset
/// paging. Built from an [`super::identity::InMemoryIdentity`] (its `audit_log()`), it shares
/// the identity data, so entries appended in a transaction appear only when it commits.
#[derive(Debug, Clone, Default)]
pub struct InMemoryAuditLog {
    scope: Scope,
}

impl InMemoryAuditLog {
    /// An empty log of its own, down while `outage` lasts. Use
    /// [`super::identity::InMemoryIdentity::audit_log`] instead when transactions write to it.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        super::identity::InMemoryIdentity::new(outage).audit_log()
    }

    /// The log over `scope`: the live identity tables or a transaction's copy.
    pub(crate) const fn over(scope: Scope) -> Self {
        Self { scope }
    }

    /// Stores `entry` as it is, replacing one with its id.
    pub fn insert(&self, entry: AuditEntry) {
        self.scope.write(|tables| tables.put_audit(entry));
    }

    /// Every entry, in id order (oldest first when ids come from a sequential generator).
    #[must_use]
    pub fn entries(&self) -> Vec<AuditEntry> {
        self.scope.read(super::identity::Tables::audit_entries)
    }
}

#[async_trait]
impl AuditLog for InMemoryAuditLog {
    async fn append(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.scope.run(|tables| tables.append_audit(entry))
    }

    async fn list(&self, page: PageRequest) -> Result<Page<AuditEntry>, StoreError> {
        self.scope.run(|tables| Ok(tables.audit_page(page)))
    }
}

/// A [`DatabaseInspector`] answering the status the test set: by default a current SQLite
/// database with one idle primary pool of ten connections and no tables. The pools' usage
/// ([`ConnectionPools`]) is the status's, and answers during an outage too, as it needs no I/O.
#[derive(Debug, Clone)]
pub struct FakeDatabase {
    outage: Outage,
    status: Arc<Mutex<DatabaseStatus>>,
}

impl Default for FakeDatabase {
    fn default() -> Self {
        Self::new(Outage::default())
    }
}

impl FakeDatabase {
    /// The default status, unreadable while `outage` lasts.
    #[must_use]
    pub fn new(outage: Outage) -> Self {
        Self {
            outage,
            status: Arc::new(Mutex::new(DatabaseStatus {
                backend: "sqlite",
                schema: SchemaState::default(),
                pools: vec![PoolUsage {
                    pool: "primary",
                    max: 10,
                    idle: 10,
                    in_use: 0,
                }],
                tables: Vec::new(),
                row_counts_estimated: false,
                replica_lag_seconds: None,
            })),
        }
    }

    /// Answers `status` from now on.
    pub fn set_status(&self, status: DatabaseStatus) {
        *lock(&self.status) = status;
    }

    /// Answers `pools` as the pools' usage from now on.
    pub fn set_pools(&self, pools: Vec<PoolUsage>) {
        lock(&self.status).pools = pools;
    }
}

impl ConnectionPools for FakeDatabase {
    fn usage(&self) -> Vec<PoolUsage> {
        lock(&self.status).pools.clone()
    }
}

#[async_trait]
impl DatabaseInspector for FakeDatabase {
    async fn status(&self) -> Result<DatabaseStatus, StoreError> {
        self.outage.check()?;
        Ok(lock(&self.status).clone())
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::{
        testing::{identity::InMemoryIdentity, system::START},
        unit_of_work::UnitOfWork,
    };

    fn entry(n: u128) -> AuditEntry {
        AuditEntry {
            id: Uuid::from_u128(n),
            actor: FakeKeyring::fingerprint_of("key"),
            action: "tenants.create".to_owned(),
            target: None,
            old: None,
            new: None,
            outcome: crate::admin::ports::AuditOutcome::Success,
            created_at: START,
        }
    }

    #[test]
    fn only_a_configured_key_is_accepted_with_its_fingerprint() {
        let keyring = FakeKeyring::new(&["old-key", "new-key"]);
        assert_eq!(
            keyring.check(Some("new-key")),
            KeyCheck::Accepted {
                fingerprint: FakeKeyring::fingerprint_of("new-key")
            }
        );
        assert_eq!(keyring.check(Some("other")), KeyCheck::Wrong);
        assert_eq!(keyring.check(Some("")), KeyCheck::Missing);
        assert_eq!(
            FakeKeyring::default().check(Some("old-key")),
            KeyCheck::Disabled
        );
    }

    #[tokio::test]
    async fn entries_are_listed_newest_first_a_page_at_a_time() {
        let log = InMemoryAuditLog::new(Outage::default());
        for n in 1..=3 {
            log.append(&entry(n)).await.unwrap();
        }
        let first = log
            .list(PageRequest {
                limit: 2,
                after: None,
            })
            .await
            .unwrap();
        let ids: Vec<Uuid> = first.items.iter().map(|e| e.id).collect();
        assert_eq!(ids, [Uuid::from_u128(3), Uuid::from_u128(2)]);
        let rest = log
            .list(PageRequest {
                limit: 2,
                after: first.next_after,
            })
            .await
            .unwrap();
        assert_eq!(rest.items, [entry(1)]);
        assert_eq!(rest.next_after, None);
    }

    #[tokio::test]
    async fn an_entry_appended_in_a_rolled_back_transaction_is_not_kept() {
        let identity = InMemoryIdentity::new(Outage::default());
        let transaction = identity.unit_of_work().begin().await.unwrap();
        transaction.audit_log().append(&entry(1)).await.unwrap();
        drop(transaction);
        assert!(identity.audit_log().entries().is_empty());
    }
}
