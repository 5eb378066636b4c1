use crate::wire::wire_names;

/// Where an SMS is in its life: written before the provider is called (`pending`), accepted by
/// it (`queued`, `sent`), and finally `delivered`, `undelivered` or `failed`; `demo` when no
/// provider is configured; `unknown` when the provider may or may not have taken it (a timeout
/// after the request was written), until a delivery report or a lookup settles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsStatus {
    /// Logged, not yet handed to the provider.
    Pending,
    /// Handed to the provider, which did not say whether it took the message: never resent
    /// before a lookup at the provider settles it.
    Unknown,
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
    Unknown => "unknown",
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
            Self::Unknown => 1,
            Self::Queued => 2,
            Self::Sent => 3,
            Self::Delivered | Self::Undelivered | Self::Failed | Self::Demo => 4,
        }
    }

    /// Whether a message in this status may move to `next`: only forward, never out of a final
    /// status (a late `sent` after `delivered` changes nothing).
    #[must_use]
    pub const fn may_move_to(self, next: Self) -> bool {
        next.rank() > self.rank()
    }

    /// Our status for a message status the provider reports (Twilio's names, in its delivery
    /// reports and its Messages list); statuses that say nothing of an outgoing message's fate
    /// (`receiving`, `received`) are none.
    #[must_use]
    pub fn from_provider(name: &str) -> Option<Self> {
        match name {
            "accepted" | "scheduled" | "queued" | "sending" => Some(Self::Queued),
            "sent" => Some(Self::Sent),
            "delivered" | "read" => Some(Self::Delivered),
            "undelivered" => Some(Self::Undelivered),
            "failed" | "canceled" => Some(Self::Failed),
            _ => None,
        }
    }

    /// Whether nothing can happen to the message any more.
    #[must_use]
    pub const fn is_final(self) -> bool {
        self.rank() == 4
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
        assert!(Pending.may_move_to(Unknown) && Unknown.may_move_to(Sent));
        assert!(!Unknown.may_move_to(Pending) && !Queued.may_move_to(Unknown));
        assert!(!Delivered.may_move_to(Sent));
        assert!(!Sent.may_move_to(Queued));
        assert!(!Delivered.may_move_to(Failed));
        assert!(!Sent.may_move_to(Sent));
        assert!(Delivered.is_final() && !Sent.is_final());
    }

    #[test]
    fn provider_statuses_map_to_ours() {
        assert_eq!(SmsStatus::from_provider("sending"), Some(SmsStatus::Queued));
        assert_eq!(SmsStatus::from_provider("read"), Some(SmsStatus::Delivered));
        assert_eq!(
            SmsStatus::from_provider("canceled"),
            Some(SmsStatus::Failed)
        );
        assert_eq!(SmsStatus::from_provider("received"), None);
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in SmsStatus::ALL {
            assert_eq!(status.as_str().parse::<SmsStatus>(), Ok(status));
        }
        assert!("read".parse::<SmsStatus>().is_err());
    }
}
