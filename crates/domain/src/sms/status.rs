use crate::wire::wire_names;

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

wire_names!(SmsStatus {
    Pending => "pending",
    Queued => "queued",
    Sent => "sent",
    Delivered => "delivered",
    Undelivered => "undelivered",
    Failed => "failed",
    Demo => "demo",
});

impl SmsStatus {
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
