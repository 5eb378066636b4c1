//! Repositories of tenants, users and refresh tokens.

mod export;
mod refresh_tokens;
mod tenants;
mod users;

pub use refresh_tokens::SeaOrmRefreshTokenRepository;
pub use tenants::SeaOrmTenantRepository;
pub use users::SeaOrmUserRepository;
