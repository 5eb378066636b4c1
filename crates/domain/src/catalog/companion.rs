use std::str::FromStr;

use super::UnknownVariant;

/// How two catalog plants affect each other when grown side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanionKind {
    /// They help each other (pest deterrence, shade, nutrients).
    Beneficial,
    /// One hinders the other.
    Antagonistic,
}

impl CompanionKind {
    /// The wire and storage name of the variant.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Beneficial => "beneficial",
            Self::Antagonistic => "antagonistic",
        }
    }
}

impl FromStr for CompanionKind {
    type Err = UnknownVariant;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "beneficial" => Ok(Self::Beneficial),
            "antagonistic" => Ok(Self::Antagonistic),
            other => Err(UnknownVariant {
                value: other.to_owned(),
                expected: "beneficial, antagonistic",
            }),
        }
    }
}

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
