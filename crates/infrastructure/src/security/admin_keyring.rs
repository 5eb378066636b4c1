use application::admin::ports::{AdminKeyring, KeyCheck};
use domain::secret::Secret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::hex;

/// The configured admin keys, kept as SHA-256 digests. A presented key is hashed and compared
/// with every digest in constant time, so neither its content nor its length shows in timing.
pub struct Sha256AdminKeyring {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Sha256AdminKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sha256AdminKeyring")
            .field("keys", &self.digests.len())
            .finish()
    }
}

impl Sha256AdminKeyring {
    /// A keyring of `keys`; none closes the admin API.
    #[must_use]
    pub fn new(keys: &[Secret]) -> Self {
        Self {
            digests: keys.iter().map(|key| digest(key.expose())).collect(),
        }
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl AdminKeyring for Sha256AdminKeyring {
    fn check(&self, presented: Option<&str>) -> KeyCheck {
        if self.digests.is_empty() {
            return KeyCheck::Disabled;
        }
        let Some(presented) = presented.filter(|key| !key.is_empty()) else {
            return KeyCheck::Missing;
        };
        let presented = digest(presented);
        // Every key is compared, whatever matched earlier.
        let mut matched: Option<&[u8; 32]> = None;
        for configured in &self.digests {
            if bool::from(configured.ct_eq(&presented)) {
                matched = Some(configured);
            }
        }
        match matched {
            Some(configured) => KeyCheck::Accepted {
                fingerprint: format!("key:{}", hex::encode(&configured[..6])),
            },
            None => KeyCheck::Wrong,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "old-admin-key-0123456789abcdef0123456789";
    const NEW: &str = "new-admin-key-0123456789abcdef0123456789";

    #[test]
    fn without_keys_the_admin_api_is_disabled() {
        assert_eq!(
            Sha256AdminKeyring::new(&[]).check(Some(OLD)),
            KeyCheck::Disabled
        );
    }

    #[test]
    fn every_configured_key_is_accepted_during_a_rotation_each_with_its_fingerprint() {
        let keyring = Sha256AdminKeyring::new(&[Secret::new(OLD), Secret::new(NEW)]);
        let (KeyCheck::Accepted { fingerprint: old }, KeyCheck::Accepted { fingerprint: new }) =
            (keyring.check(Some(OLD)), keyring.check(Some(NEW)))
        else {
            panic!("both keys are accepted");
        };
        assert_ne!(old, new);
        assert!(old.starts_with("key:") && old.len() == 16);
        assert!(!old.contains(OLD));
    }

    #[test]
    fn a_missing_or_wrong_key_is_refused() {
        let keyring = Sha256AdminKeyring::new(&[Secret::new(OLD)]);
        assert_eq!(keyring.check(None), KeyCheck::Missing);
        assert_eq!(keyring.check(Some("")), KeyCheck::Missing);
        assert_eq!(keyring.check(Some(&OLD[..10])), KeyCheck::Wrong);
    }
}
