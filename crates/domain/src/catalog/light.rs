use crate::wire::wire_names;

/// How much light a catalog plant needs, in order of increasing light.
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

wire_names!(Light {
    Low => "low",
    Medium => "medium",
    BrightIndirect => "bright_indirect",
    FullSun => "full_sun",
});

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
