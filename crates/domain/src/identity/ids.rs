//! Identifiers of tenants and users: UUID v7, so that ids sort by creation time.

use crate::ids::uuid_id;

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
    use uuid::Uuid;

    use super::*;

    #[test]
    fn an_id_prints_as_its_uuid() {
        let uuid = Uuid::now_v7();
        assert_eq!(UserId::from_uuid(uuid).to_string(), uuid.to_string());
        assert_eq!(TenantId::from_uuid(uuid).as_uuid(), uuid);
    }
}
