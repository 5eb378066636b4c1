//! Identifiers of tenants and users: UUID v7, so that ids sort by creation time.

use std::fmt;

use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a stored or generated id.
            #[must_use]
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// The id of a tenant.
    TenantId
);
uuid_id!(
    /// The id of a user.
    UserId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_prints_as_its_uuid() {
        let uuid = Uuid::now_v7();
        assert_eq!(UserId::from_uuid(uuid).to_string(), uuid.to_string());
        assert_eq!(TenantId::from_uuid(uuid).as_uuid(), uuid);
    }
}
