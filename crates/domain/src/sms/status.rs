use std::str::FromStr;

use crate::catalog::UnknownVariant;

/// Where an SMS is in its life: written before the provider is called (`pending`), accepted by
/// it (`queued`, `sent`), and finally `delivered`, `undelivered` or `failed`; `demo` when no
/// provider is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsStatus {
    /// Logged, not yet handed to the provider.
    Pending,
    /// Accepted by the provider.
    Queued,
    /// Handed to the carrier.
    Sent,
    /// On the phone.
    Delivered,
    /// The carrier could not deliver it.
    Undelivered,
    /// Sending failed.
    Failed,
    /// Demo mode: logged, never sent.
    Demo,
}

impl SmsStatus {
    /// Every status.
    pub const ALL: [Self; 7] = [
        Self::Pending,
        Self::Queued,
        Self::Sent,
        Self::Delivered,
        Self::Undelivered,
        Self::Failed,
        Self::Demo,
    ];

    /// The storage and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Failed => "failed",
            Self::Demo => "demo",
        }
    }

    /// How far along the message is: a status callback may only move it to a higher rank.
    const fn rank(self) -> u8 {
        match self {
            Self::Pending => 0,
            Self::Queued => 1,
            Self::Sent => 2,
            Self::Delivered | Self::Undelivered | Self::Failed | Self::Demo => 3,
        }
    }

    /// Whether a message in this status may move to `next`: only forward, never out of a final
    /// status (a late `sent` after `delivered` changes nothing).
    #[must_use]
    pub const fn may_move_to(self, next: Self) -> bool {
        next.rank() > self.rank()
    }

    /// Whether nothing can happen to the message any more.
    #[must_use]
    pub const fn is_final(self) -> bool {
        self.rank() == 3
    }
}

impl FromStr for SmsStatus {
    type Err = UnknownVariant;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| UnknownVariant {
                value: value.to_owned(),
                expected: "pending, queued, sent, delivered, undelivered, failed, demo",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward() {
        use SmsStatus::*;
        assert!(Pending.may_move_to(Queued));
        assert!(Queued.may_move_to(Sent));
        assert!(Sent.may_move_to(Delivered));
        assert!(Queued.may_move_to(Undelivered));
        assert!(Pending.may_move_to(Failed));
        assert!(!Delivered.may_move_to(Sent));
        assert!(!Sent.may_move_to(Queued));
        assert!(!Delivered.may_move_to(Failed));
        assert!(!Sent.may_move_to(Sent));
        assert!(Delivered.is_final() && !Sent.is_final());
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in SmsStatus::ALL {
            assert_eq!(status.as_str().parse::<SmsStatus>(), Ok(status));
        }
        assert!("read".parse::<SmsStatus>().is_err());
    }
}
