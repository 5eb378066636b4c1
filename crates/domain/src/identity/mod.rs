//! Identity: who users are within which tenant, and the rules their credentials follow.

mod email;
mod full_name;
mod password;
mod role;
mod tenant_slug;

pub use email::{Email, InvalidEmail};
pub use full_name::{FullName, InvalidFullName};
pub use password::{Password, PasswordRejected};
pub use role::{Role, UnknownRole};
pub use tenant_slug::{InvalidTenantSlug, TenantSlug};
