//! Secrets and what guards accounts: SECRET_KEY, JWT_*, REFRESH_ABSOLUTE_TTL_SECS,
//! ADMIN_API_KEY, HASH_CONCURRENCY, HASH_QUEUE.

use std::time::Duration;

use domain::secret::Secret;
use infrastructure::security::HashingLimits;

use super::{
    parse::Reader,
    settings::{Environment, secs},
};

/// Secret keys that appear in examples and tutorials; refused in staging/production.
const PLACEHOLDER_SECRETS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "placeholder",
    "your-secret",
    "example",
    "dev-secret",
    "insecure",
];

/// Token settings.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// Lifetime of access tokens.
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens.
    pub refresh_ttl: Duration,
    /// A session's absolute lifetime: its refresh family ends this long after the login,
    /// whatever the rotations.
    pub session_lifetime: Duration,
    /// `iss` claim.
    pub issuer: String,
    /// `aud` claim.
    pub audience: String,
}

/// The signing key, tokens, admin keys and password hashing.
#[derive(Debug, Clone)]
pub struct SecretSettings {
    /// JWT signing key.
    pub secret_key: Secret,
    /// Whether [`SecretSettings::secret_key`] was generated for this run (development only).
    pub secret_key_generated: bool,
    /// Token lifetimes and claims.
    pub jwt: JwtSettings,
    /// Platform admin keys; several while one is rotated out.
    pub admin_api_keys: Vec<Secret>,
    /// Password hashes running at once (`HASH_CONCURRENCY`).
    pub hash_concurrency: usize,
    /// Password hashes waiting for a slot before requests are refused (`HASH_QUEUE`).
    pub hash_queue: usize,
}

impl SecretSettings {
    pub(super) fn read(r: &mut Reader, environment: Environment) -> Self {
        let deployed = environment.is_deployed();
        let (secret_key, secret_key_generated) = match r.secret("SECRET_KEY") {
            Some(key) => {
                if key.expose().chars().count() < 32 {
                    r.problem("SECRET_KEY", "must be at least 32 characters");
                } else if deployed && looks_like_placeholder(key.expose()) {
                    r.problem("SECRET_KEY", "must not be a placeholder or example value");
                }
                (key, false)
            }
            None if deployed => {
                r.problem(
                    "SECRET_KEY",
                    format!("is required in {}", environment.as_str()),
                );
                (Secret::new(String::new()), false)
            }
            None => (Secret::new(random_key()), true),
        };
        // Access tokens live at most an hour: revocation reaches them at the next request, but a
        // stolen one is worth less the sooner it ends (SPEC §5.3).
        let access_ttl = r.number("JWT_ACCESS_TTL_SECS", 900_u64, 60, 3_600);
        let refresh_ttl = r.number("JWT_REFRESH_TTL_SECS", 2_592_000_u64, 60, 31_536_000);
        if refresh_ttl <= access_ttl {
            r.problem(
                "JWT_REFRESH_TTL_SECS",
                "must be longer than JWT_ACCESS_TTL_SECS",
            );
        }
        let session_lifetime = r.number("REFRESH_ABSOLUTE_TTL_SECS", 2_592_000_u64, 60, 31_536_000);
        let jwt = JwtSettings {
            access_ttl: secs(access_ttl),
            refresh_ttl: secs(refresh_ttl),
            session_lifetime: secs(session_lifetime),
            issuer: r.text_or("JWT_ISSUER", "plant-texts"),
            audience: r.text_or("JWT_AUDIENCE", "plant-texts-api"),
        };
        let defaults = HashingLimits::per_cpu();
        let hash_concurrency = r.number("HASH_CONCURRENCY", defaults.concurrency, 1, 1024);
        let hash_queue = r.number("HASH_QUEUE", defaults.queue, 0, 100_000);
        let admin_api_keys: Vec<Secret> = r
            .list("ADMIN_API_KEY")
            .into_iter()
            .map(Secret::new)
            .collect();
        if admin_api_keys.is_empty() && deployed {
            r.problem(
                "ADMIN_API_KEY",
                format!("is required in {}", environment.as_str()),
            );
        }
        if admin_api_keys
            .iter()
            .any(|key| key.expose().chars().count() < 32)
        {
            r.problem("ADMIN_API_KEY", "every key must be at least 32 characters");
        }
        Self {
            secret_key,
            secret_key_generated,
            jwt,
            admin_api_keys,
            hash_concurrency,
            hash_queue,
        }
    }
}

fn looks_like_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    PLACEHOLDER_SECRETS.iter().any(|p| lower.contains(p))
        || value
            .chars()
            .collect::<std::collections::HashSet<_>>()
            .len()
            < 8
}

/// A random 64-character key for development runs without SECRET_KEY.
fn random_key() -> String {
    use rand::{Rng as _, distr::Alphanumeric};
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(char::from)
        .collect()
}
