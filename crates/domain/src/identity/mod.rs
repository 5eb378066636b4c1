//! Identity: who users are within which tenant, and the rules their credentials follow.

mod email;
mod full_name;
mod ids;
mod password;
mod role;
mod tenant;
mod tenant_slug;
mod user;

pub use email::{Email, InvalidEmail};
pub use full_name::{FullName, InvalidFullName};
pub use ids::{TenantId, UserId};
pub use password::{Password, PasswordRejected};
pub use role::{Role, UnknownRole};
pub use tenant::Tenant;
pub use tenant_slug::{InvalidTenantSlug, TenantSlug};
pub use user::{AccountStanding, PasswordHash, User};
