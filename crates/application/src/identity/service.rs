use std::sync::Arc;

use super::ports::{
    PasswordHasher, RefreshTokenRepository, TenantRepository, TokenService, UserRepository,
};
use crate::{
    system::{Clock, IdGenerator},
    unit_of_work::UnitOfWork,
};

/// Everything the identity use cases need, wired by the server.
#[derive(Clone)]
pub struct IdentityPorts {
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub refresh_tokens: Arc<dyn RefreshTokenRepository>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Access and refresh tokens.
    pub tokens: Arc<dyn TokenService>,
    /// Transactions for writes that must hold together (login and its session, password change
    /// and revocation, erasure).
    pub unit_of_work: Arc<dyn UnitOfWork>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for IdentityPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityPorts").finish_non_exhaustive()
    }
}

/// The identity use cases: accounts, sessions and the caller's own profile. Each operation is a
/// method with an error enum of its own.
#[derive(Clone)]
pub struct Identity {
    pub(super) ports: IdentityPorts,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").finish_non_exhaustive()
    }
}

impl Identity {
    /// The use cases over `ports`.
    #[must_use]
    pub const fn new(ports: IdentityPorts) -> Self {
        Self { ports }
    }
}
