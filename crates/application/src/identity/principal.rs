use domain::identity::{Role, TenantId, UserId};

/// The authenticated caller of a request: who, in which tenant, with which role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// Their tenant; every query of tenant data is scoped by it.
    pub tenant_id: TenantId,
    /// Their current role.
    pub role: Role,
}

impl Principal {
    /// Whether the caller administers their tenant.
    #[must_use]
    pub fn is_tenant_admin(&self) -> bool {
        self.role == Role::Admin
    }
}
