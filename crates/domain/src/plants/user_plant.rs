use chrono::{DateTime, TimeDelta, Utc};

use super::Nickname;
use crate::{
    catalog::{CatalogPlantId, PersonalityKey},
    identity::{TenantId, UserId},
    ids::uuid_id,
};

uuid_id!(
    /// The id of a user's plant.
    UserPlantId
);

/// A plant a user owns: a catalog species with a nickname, a personality and a watering schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPlant {
    pub id: UserPlantId,
    /// The owner's tenant.
    pub tenant_id: TenantId,
    /// The owner.
    pub owner: UserId,
    /// The species.
    pub catalog_plant_id: CatalogPlantId,
    /// What the owner calls it.
    pub nickname: Nickname,
    /// How it speaks.
    pub personality: PersonalityKey,
    /// When it was last watered, if ever.
    pub last_watered_at: Option<DateTime<Utc>>,
    /// When its owner is next reminded to water it.
    pub next_reminder_at: Option<DateTime<Utc>>,
    /// Whether it is still looked after (reminders go only to active plants).
    pub is_active: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// When a plant watered at `watered_at` needs water again.
#[must_use]
pub fn next_watering(watered_at: DateTime<Utc>, interval_days: u32) -> DateTime<Utc> {
    watered_at + TimeDelta::days(i64::from(interval_days.max(1)))
}

impl UserPlant {
    /// Records a watering at `now` and moves the reminder one watering interval ahead.
    pub fn water(&mut self, now: DateTime<Utc>, interval_days: u32) {
        self.last_watered_at = Some(now);
        self.next_reminder_at = Some(next_watering(now, interval_days));
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn watering_reschedules_the_reminder_by_the_interval() {
        let created = DateTime::parse_from_rfc3339("2026-01-01T08:00:00Z")
            .unwrap()
            .to_utc();
        let mut plant = UserPlant {
            id: UserPlantId::from_uuid(Uuid::now_v7()),
            tenant_id: TenantId::from_uuid(Uuid::now_v7()),
            owner: UserId::from_uuid(Uuid::now_v7()),
            catalog_plant_id: CatalogPlantId::from_uuid(Uuid::now_v7()),
            nickname: Nickname::parse("Fern").unwrap(),
            personality: PersonalityKey::parse("chill_friend").unwrap(),
            last_watered_at: None,
            next_reminder_at: Some(next_watering(created, 7)),
            is_active: true,
            created_at: created,
            updated_at: created,
        };
        let now = created + TimeDelta::days(3);
        plant.water(now, 7);
        assert_eq!(plant.last_watered_at, Some(now));
        assert_eq!(plant.next_reminder_at, Some(now + TimeDelta::days(7)));
        assert_eq!(plant.updated_at, now);
    }

    #[test]
    fn an_interval_below_one_day_counts_as_one() {
        let now = Utc::now();
        assert_eq!(next_watering(now, 0), now + TimeDelta::days(1));
    }
}
