use application::identity::ports::{HasherError, PasswordCheck, PasswordHasher};
use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{self, ParamsString, SaltString, rand_core::OsRng},
};
use async_trait::async_trait;
use domain::{
    identity::{Password, PasswordHash},
    secret::Secret,
};

use subtle::ConstantTimeEq as _;

use super::hashing_pool::{HashingLimits, HashingPool, WorkArea};

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
}

/// argon2id password hashing in PHC strings. Hashes made with other parameters (or argon2i/d)
/// still verify, and are reported for rehashing. The work runs on a fixed pool of hashing
/// threads that reuse their argon2 memory, behind a bounded queue, so that it never stalls the
/// async workers and a flood of logins cannot take the memory of the machine.
#[derive(Debug, Clone)]
pub struct Argon2PasswordHasher {
    params: Params,
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
        let params = Params::new(
            parameters.memory_kib,
            parameters.iterations,
            parameters.parallelism,
            None,
        )
        .map_err(failed)?;
        let random: [u8; 16] = rand::random();
        let dummy_hash = hash_with(
            &params,
            &random.map(|b| b % 26 + b'a'),
            &mut WorkArea::new(),
        )?;
        Ok(Self {
            params,
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

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

/// The first `count` blocks of a thread's work area, grown once if it is smaller.
fn blocks(work_area: &mut WorkArea, count: usize) -> &mut [Block] {
    if work_area.len() < count {
        work_area.resize(count, Block::default());
    }
    &mut work_area[..count]
}

fn hash_with(
    params: &Params,
    password: &[u8],
    work_area: &mut WorkArea,
) -> Result<String, HasherError> {
    let salt = SaltString::generate(&mut OsRng);
    let salt = salt.as_salt();
    let mut salt_buffer = [0_u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buffer).map_err(failed)?;
    let hasher = argon2(params);
    let memory = blocks(work_area, params.block_count());
    let output = password_hash::Output::init_with(
        params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN),
        |out| Ok(hasher.hash_password_into_with_memory(password, salt_bytes, out, &mut *memory)?),
    )
    .map_err(failed)?;
    let phc = password_hash::PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(failed)?,
        salt: Some(salt),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

fn verify_with(
    params: &Params,
    candidate: &[u8],
    phc: &str,
    work_area: &mut WorkArea,
) -> Result<PasswordCheck, HasherError> {
    let parsed = password_hash::PasswordHash::new(phc).map_err(failed)?;
    // Algorithm, version and parameters come from the stored hash itself.
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(failed)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(failed)?
        .unwrap_or_default();
    let stored = Params::try_from(&parsed).map_err(failed)?;
    if stored.m_cost() > MAX_STORED_MEMORY_KIB {
        // Our hashes never ask for this much; a work area of that size would stay for good.
        return Err(failed(
            "the stored hash asks for more memory than any hash of ours",
        ));
    }
    let expected = parsed
        .hash
        .ok_or_else(|| failed("the stored hash has no output"))?;
    let salt = parsed
        .salt
        .ok_or_else(|| failed("the stored hash has no salt"))?;
    let mut salt_buffer = [0_u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buffer).map_err(failed)?;
    let mut computed = vec![0_u8; expected.len()];
    Argon2::new(algorithm, version, stored.clone())
        .hash_password_into_with_memory(
            candidate,
            salt_bytes,
            &mut computed,
            blocks(work_area, stored.block_count()),
        )
        .map_err(failed)?;
    if !bool::from(computed.ct_eq(expected.as_bytes())) {
        return Ok(PasswordCheck::Mismatch);
    }
    let current = algorithm == Algorithm::Argon2id
        && version == Version::V0x13
        && stored.m_cost() == params.m_cost()
        && stored.t_cost() == params.t_cost()
        && stored.p_cost() == params.p_cost();
    Ok(if current {
        PasswordCheck::Match
    } else {
        PasswordCheck::MatchNeedsRehash
    })
}

#[async_trait]
impl PasswordHasher for Argon2PasswordHasher {
    #[tracing::instrument(name = "argon2.hash", skip_all)]
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HasherError> {
        let params = self.params.clone();
        let password = password.expose().as_bytes().to_vec();
        self.pool
            .run(move |work_area| hash_with(&params, &password, work_area).map(PasswordHash::new))
            .await
    }

    #[tracing::instrument(name = "argon2.verify", skip_all)]
    async fn verify(
        &self,
        candidate: &Secret,
        hash: &PasswordHash,
    ) -> Result<PasswordCheck, HasherError> {
        let params = self.params.clone();
        let candidate = candidate.expose().as_bytes().to_vec();
        let phc = hash.as_str().to_owned();
        self.pool
            .run(move |work_area| verify_with(&params, &candidate, &phc, work_area))
            .await
    }

    #[tracing::instrument(name = "argon2.verify_dummy", skip_all)]
    async fn verify_dummy(&self, candidate: &Secret) -> Result<(), HasherError> {
        let params = self.params.clone();
        let candidate = candidate.expose().as_bytes().to_vec();
        let phc = self.dummy_hash.clone();
        self.pool
            .run(move |work_area| verify_with(&params, &candidate, &phc, work_area))
            .await
            .map(|_| ())
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
}
