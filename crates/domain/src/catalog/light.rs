use std::str::FromStr;

use super::UnknownVariant;

/// How much light a catalog plant needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    /// Tolerates shade or a north window.
    Low,
    /// Bright room, no direct sun.
    Medium,
    /// Bright, indirect light.
    BrightIndirect,
    /// Several hours of direct sun.
    FullSun,
}

impl Light {
    /// Every variant, in order of increasing light.
    pub const ALL: [Self; 4] = [Self::Low, Self::Medium, Self::BrightIndirect, Self::FullSun];

    /// The wire and storage name of the variant.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::BrightIndirect => "bright_indirect",
            Self::FullSun => "full_sun",
        }
    }
}

impl FromStr for Light {
    type Err = UnknownVariant;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|light| light.as_str() == value)
            .ok_or_else(|| UnknownVariant {
                value: value.to_owned(),
                expected: "low, medium, bright_indirect, full_sun",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_light_round_trips_through_its_name() {
        for light in Light::ALL {
            assert_eq!(light.as_str().parse::<Light>(), Ok(light));
        }
    }

    #[test]
    fn an_unknown_light_is_refused_with_the_accepted_names() {
        let error = "dark".parse::<Light>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "`dark` is not one of: low, medium, bright_indirect, full_sun"
        );
    }
}
