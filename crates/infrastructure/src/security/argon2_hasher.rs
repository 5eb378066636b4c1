use application::identity::ports::{HasherError, PasswordCheck, PasswordHasher};
use argon2_rust::{Algorithm, Argon2, Params, Version, decode_phc, params::Memory};
use async_trait::async_trait;
use domain::{
    identity::{Password, PasswordHash},
    secret::Secret,
};

use subtle::ConstantTimeEq as _;

use super::hashing_pool::{HashingLimits, HashingPool, WorkArea, new_work_area};

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Parameters {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Argon2Parameters {
    /// OWASP's recommendation (Password Storage Cheat Sheet): m=19456 KiB, t=2, p=1.
    pub const OWASP: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    fn matches(self, params: &Params) -> bool {
        params.memory_kib() == self.memory_kib
            && params.passes() == self.iterations
            && params.lanes() == self.parallelism
    }
}

/// argon2id password hashing in PHC strings. Hashes made with other parameters (or argon2i/d)
/// still verify, and are reported for rehashing. The work runs on a fixed pool of hashing
/// threads that reuse their argon2 memory, behind a bounded queue, so that it never stalls the
/// async workers and a flood of logins cannot take the memory of the machine.
///
/// The implementation is `argon2-rust`, which picks AVX2/SSE/NEON at run time: on the
/// benchmark machine it hashes OWASP's parameters in 30 ms where the `argon2` crate takes 43 ms
/// and the C reference 52 ms, with bit-identical output (docs/benchmarks.md, "Password
/// hashing").
#[derive(Debug, Clone)]
pub struct Argon2PasswordHasher {
    parameters: Argon2Parameters,
    argon2: Argon2,
    /// A hash of a random password, verified against for unknown accounts.
    dummy_hash: String,
    pool: HashingPool,
}

/// The hasher's own failure.
fn failed(error: impl std::fmt::Display) -> HasherError {
    HasherError::Failed(error.to_string())
}

impl Argon2PasswordHasher {
    /// A hasher with `parameters`, running at most `limits` hashes at once and in queue.
    ///
    /// # Errors
    /// [`HasherError`] when the parameters are out of argon2's range.
    pub fn new(parameters: Argon2Parameters, limits: HashingLimits) -> Result<Self, HasherError> {
        let params = Params::builder()
            .memory(Memory::kib(u64::from(parameters.memory_kib)))
            .passes(parameters.iterations)
            .lanes(parameters.parallelism)
            .build()
            .map_err(failed)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let random: [u8; 16] = rand::random();
        let dummy_hash = hash_with(argon2, &random.map(|b| b % 26 + b'a'), &mut new_work_area())?;
        Ok(Self {
            parameters,
            argon2,
            dummy_hash,
            pool: HashingPool::new(limits),
        })
    }

    /// The most hashes that ever ran at once on this hasher (for tests and benchmarks).
    #[must_use]
    pub fn peak_concurrent_hashes(&self) -> usize {
        self.pool.peak_running()
    }
}

/// The most memory a stored hash may ask for at verification: 256 MiB, thirteen times OWASP's.
const MAX_STORED_MEMORY_KIB: u32 = 262_144;

fn hash_with(
    argon2: Argon2,
    password: &[u8],
    work_area: &mut WorkArea,
) -> Result<String, HasherError> {
    work_area.set_argon2(argon2);
    work_area
        .hash_password_with_random_salt(password)
        .map_err(failed)
}

fn verify_with(
    current: Argon2Parameters,
    candidate: &[u8],
    phc: &str,
    work_area: &mut WorkArea,
) -> Result<PasswordCheck, HasherError> {
    // Algorithm, version and parameters come from the stored hash itself.
    let stored = decode_phc(phc).map_err(failed)?;
    if stored.params.memory_kib() > MAX_STORED_MEMORY_KIB {
        // Our hashes never ask for this much; a work area of that size would stay for good.
        return Err(failed(
            "the stored hash asks for more memory than any hash of ours",
        ));
    }
    let mut computed = vec![0_u8; stored.hash.len()];
    work_area.set_argon2(Argon2::new(stored.algorithm, stored.version, stored.params));
    work_area
        .hash_into_with_ad(candidate, &stored.salt, &[], &stored.ad, &mut computed)
        .map_err(failed)?;
    if !bool::from(computed.ct_eq(&stored.hash)) {
        return Ok(PasswordCheck::Mismatch);
    }
    let is_current = stored.algorithm == Algorithm::Argon2id
        && stored.version == Version::V0x13
        && current.matches(&stored.params);
    Ok(if is_current {
        PasswordCheck::Match
    } else {
        PasswordCheck::MatchNeedsRehash
    })
}

#[async_trait]
impl PasswordHasher for Argon2PasswordHasher {
    #[tracing::instrument(name = "argon2.hash", skip_all)]
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HasherError> {
        let argon2 = self.argon2;
        let password = password.expose().as_bytes().to_vec();
        self.pool
            .run(move |work_area| hash_with(argon2, &password, work_area).map(PasswordHash::new))
            .await
    }

    #[tracing::instrument(name = "argon2.verify", skip_all)]
    async fn verify(
        &self,
        candidate: &Secret,
        hash: &PasswordHash,
    ) -> Result<PasswordCheck, HasherError> {
        let current = self.parameters;
        let candidate = candidate.expose().as_bytes().to_vec();
        let phc = hash.as_str().to_owned();
        self.pool
            .run(move |work_area| verify_with(current, &candidate, &phc, work_area))
            .await
    }

    #[tracing::instrument(name = "argon2.verify_dummy", skip_all)]
    async fn verify_dummy(&self, candidate: &Secret) -> Result<(), HasherError> {
        let current = self.parameters;
        let candidate = candidate.expose().as_bytes().to_vec();
        let phc = self.dummy_hash.clone();
        self.pool
            .run(move |work_area| verify_with(current, &candidate, &phc, work_area))
            .await
            .map(|_| ())
    }

    fn has_room(&self) -> bool {
        self.pool.has_room()
    }
}

#[cfg(test)]
mod tests {
    use domain::identity::{Email, TenantSlug};

    use super::*;

    /// Cheap parameters: these tests check behaviour, not cost.
    const FAST: Argon2Parameters = Argon2Parameters {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    fn password(text: &str) -> Password {
        Password::parse(
            text,
            &Email::parse("ada@example.com").unwrap(),
            &TenantSlug::parse("greenhouse").unwrap(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_hash_is_a_phc_string_of_argon2id_that_verifies_the_password_only() {
        let hasher = Argon2PasswordHasher::new(FAST, HashingLimits::per_cpu()).unwrap();
        let hash = hasher
            .hash(&password("correct horse battery"))
            .await
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert_eq!(
            hasher
                .verify(&Secret::new("correct horse battery"), &hash)
                .await
                .unwrap(),
            PasswordCheck::Match
        );
        assert_eq!(
            hasher
                .verify(&Secret::new("correct horse batterY"), &hash)
                .await
                .unwrap(),
            PasswordCheck::Mismatch
        );
    }

    #[tokio::test]
    async fn production_parameters_are_owasps() {
        let hasher =
            Argon2PasswordHasher::new(Argon2Parameters::OWASP, HashingLimits::per_cpu()).unwrap();
        let hash = hasher
            .hash(&password("correct horse battery"))
            .await
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    }

    #[tokio::test]
    async fn a_hash_made_with_other_parameters_verifies_and_asks_for_a_rehash() {
        let old = Argon2PasswordHasher::new(FAST, HashingLimits::per_cpu()).unwrap();
        let hash = old.hash(&password("correct horse battery")).await.unwrap();
        let current = Argon2PasswordHasher::new(
            Argon2Parameters {
                memory_kib: 2048,
                ..FAST
            },
            HashingLimits::per_cpu(),
        )
        .unwrap();
        assert_eq!(
            current
                .verify(&Secret::new("correct horse battery"), &hash)
                .await
                .unwrap(),
            PasswordCheck::MatchNeedsRehash
        );
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_an_error_not_a_match() {
        let hasher = Argon2PasswordHasher::new(FAST, HashingLimits::per_cpu()).unwrap();
        assert!(
            hasher
                .verify(&Secret::new("anything"), &PasswordHash::new("not-a-phc"))
                .await
                .is_err()
        );
    }

    /// PHC strings as they are stored today, made by the `argon2` crate 0.5 (this service's
    /// hasher until December 2026) and by the C reference through argon2-cffi (the Python
    /// service's), each of "Correct horse battery 9".
    const STORED_HASHES: [(&str, PasswordCheck); 10] = [
        (
            "$argon2id$v=19$m=19456,t=2,p=1$QPdRRMAOnNG+RCenFIWt2w$aa4CTKNgM8FDIVNgkpTWCaFEB8KYOLnJy8ylegyyUdA",
            PasswordCheck::Match,
        ),
        (
            "$argon2id$v=19$m=1024,t=1,p=1$yCsaPmMcpITHzMjSaK62ew$Yf+LnaJ1tOZGH21aTL7XvUMYl9oZz0pITuaNPQiYy5s",
            PasswordCheck::MatchNeedsRehash,
        ),
        (
            "$argon2i$v=19$m=1024,t=1,p=2$/DPWS21GfaHAWxvguYqtCw$mn5ihMXAD6ViWzgsa/h21rG1YFjifNgshQn+25LFnak",
            PasswordCheck::MatchNeedsRehash,
        ),
        (
            "$argon2d$v=19$m=1024,t=1,p=1$olv5ICS/eUhabmjM+36qbg$2w49Z28+23nWnfWkarfdZ+wwxrUy4Jouna0DRLipMFc",
            PasswordCheck::MatchNeedsRehash,
        ),
        (
            "$argon2id$v=19$m=19456,t=2,p=1$z3F4iuOZ4wTET6aefHCAhQ$IxIDjZdya32WGIoDsAEaLPj6eUdEq8dpZQ3dF/QDgbg",
            PasswordCheck::Match,
        ),
        (
            "$argon2id$v=19$m=1024,t=1,p=1$OCC4bZG8ldkI3o6AQPHjqA$O25Ox3ILsRCtUHNQ/dv9AFNI7fX8K/UZRDXnWWtfLwM",
            PasswordCheck::MatchNeedsRehash,
        ),
        (
            "$argon2id$v=19$m=1024,t=2,p=2$go3Xiq/pLKZ9D/XhMu49rg$xK4iafpEbfDtl0Rf6n99Yjch9dPS7CbZMf/zon4J+Qk",
            PasswordCheck::MatchNeedsRehash,
        ),
        (
            "$argon2i$v=19$m=1024,t=1,p=1$8Ga4o6GmcH6GGvgzRZmMuw$pSlwK+qwNRS4yz1kKlqRMNYGZJYIpeRnCPOksZOXTbE",
            PasswordCheck::MatchNeedsRehash,
        ),
        (
            "$argon2d$v=19$m=1024,t=1,p=1$iFunVN+kpoLLJ5paFmC8lw$vmzF+f79ajN1C5/J1CCPkw88L56FiR79KjNIWpXy1xw",
            PasswordCheck::MatchNeedsRehash,
        ),
        (
            "$argon2id$v=16$m=1024,t=1,p=1$eQOUU+EYR31rXjKba67yYw$TVDfsLUjfEGgsWttb9YpB3EklggBIaYWmrYnAaj19so",
            PasswordCheck::MatchNeedsRehash,
        ),
    ];

    #[tokio::test]
    async fn every_hash_stored_by_the_previous_implementations_verifies_its_password_only() {
        let hasher =
            Argon2PasswordHasher::new(Argon2Parameters::OWASP, HashingLimits::per_cpu()).unwrap();
        for (stored, expected) in STORED_HASHES {
            let stored_hash = PasswordHash::new(stored);
            let right = hasher
                .verify(&Secret::new("Correct horse battery 9"), &stored_hash)
                .await
                .unwrap();
            let wrong = hasher
                .verify(&Secret::new("Correct horse battery 8"), &stored_hash)
                .await
                .unwrap();

            assert_eq!(
                (right, wrong),
                (expected, PasswordCheck::Mismatch),
                "{stored}"
            );
        }
    }

    #[tokio::test]
    async fn a_stored_hash_that_asks_for_more_than_256_mib_is_refused_before_any_work() {
        let hasher = Argon2PasswordHasher::new(FAST, HashingLimits::per_cpu()).unwrap();
        let greedy = PasswordHash::new(
            "$argon2id$v=19$m=4194304,t=1,p=1$yCsaPmMcpITHzMjSaK62ew$Yf+LnaJ1tOZGH21aTL7XvUMYl9oZz0pITuaNPQiYy5s",
        );

        let outcome = hasher.verify(&Secret::new("anything"), &greedy).await;

        assert!(matches!(outcome, Err(HasherError::Failed(_))));
    }
}
