//! Platform administration: the admin key, tenants, users of any tenant, and the audit log of
//! every admin call.

mod administration;
pub mod ports;

pub use administration::{
    AdminActor, AdminRefused, Administration, AdministrationPorts, CreateTenantError, NewTenant,
    UpdateUserError, UserChanges,
};
