use crate::wire::wire_names;

/// How two catalog plants affect each other when grown side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanionKind {
    /// They help each other (pest deterrence, shade, nutrients).
    Beneficial,
    /// One hinders the other.
    Antagonistic,
}

wire_names!(CompanionKind {
    Beneficial => "beneficial",
    Antagonistic => "antagonistic",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companion_kinds_round_trip_through_their_names() {
        for kind in [CompanionKind::Beneficial, CompanionKind::Antagonistic] {
            assert_eq!(kind.as_str().parse::<CompanionKind>(), Ok(kind));
        }
        assert!("neutral".parse::<CompanionKind>().is_err());
    }
}
