//! Cryptography behind the identity ports: argon2id password hashing, HS256 access tokens,
//! opaque refresh tokens and the admin keyring.

mod admin_keyring;
mod argon2_hasher;
mod hashing_pool;
pub(crate) mod hex;
mod jwt_tokens;

pub use admin_keyring::Sha256AdminKeyring;
pub use argon2_hasher::{Argon2Parameters, Argon2PasswordHasher};
pub use hashing_pool::HashingLimits;
pub use jwt_tokens::{JwtSettings, JwtTokenService};
