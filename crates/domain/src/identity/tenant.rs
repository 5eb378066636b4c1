use chrono::{DateTime, Utc};

use super::{TenantId, TenantSlug};

/// An organisation whose users share nothing with other tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    /// Its unique slug, used at sign-up and login.
    pub slug: TenantSlug,
    /// Its display name.
    pub name: String,
    /// Whether anyone may register.
    pub signup_open: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}
