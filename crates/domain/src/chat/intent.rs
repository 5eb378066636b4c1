/// What a message to a plant is about, as far as the fallback templates care.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Hello, how are you.
    Greeting,
    /// Water, thirst, dry soil.
    Water,
    /// Sun, shade, windows.
    Light,
    /// The owner is sad, or the plant is wilting.
    Sad,
    /// Anything else.
    Default,
}

/// Words and phrases per intent, checked in this order: feelings first, so that "I'm sad, did
/// you get water?" is answered with comfort.
const CUES: &[(Intent, &[&str])] = &[
    (
        Intent::Sad,
        &[
            "sad",
            "unhappy",
            "depressed",
            "lonely",
            "cry",
            "crying",
            "upset",
            "miserable",
            "bad day",
            "wilting",
            "dying",
            "sorry",
        ],
    ),
    (
        Intent::Water,
        &[
            "water", "watered", "watering", "thirsty", "thirst", "drink", "dry", "soil", "mist",
        ],
    ),
    (
        Intent::Light,
        &[
            "light", "sun", "sunny", "sunlight", "shade", "window", "dark", "bright", "lamp",
        ],
    ),
    (
        Intent::Greeting,
        &[
            "hello",
            "hi",
            "hey",
            "hiya",
            "howdy",
            "morning",
            "evening",
            "how are you",
            "what's up",
            "whats up",
            "sup",
            "yo",
        ],
    ),
];

impl Intent {
    /// Every intent.
    pub const ALL: [Self; 5] = [
        Self::Greeting,
        Self::Water,
        Self::Light,
        Self::Sad,
        Self::Default,
    ];

    /// The intent of `text`, from whole words and phrases in it, ignoring case.
    #[must_use]
    pub fn of(text: &str) -> Self {
        let words: Vec<String> = text
            .to_lowercase()
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .filter(|word| !word.is_empty())
            .map(str::to_owned)
            .collect();
        let joined = format!(" {} ", words.join(" "));
        CUES.iter()
            .find(|(_, cues)| {
                cues.iter().any(|cue| {
                    if cue.contains(' ') {
                        joined.contains(&format!(" {cue} "))
                    } else {
                        words.iter().any(|word| word == cue)
                    }
                })
            })
            .map_or(Self::Default, |(intent, _)| *intent)
    }

    /// The storage name of the intent.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Greeting => "greeting",
            Self::Water => "water",
            Self::Light => "light",
            Self::Sad => "sad",
            Self::Default => "default",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_classified_by_their_words() {
        for (text, intent) in [
            ("Hi there!", Intent::Greeting),
            ("How are you today?", Intent::Greeting),
            ("Do you need WATER?", Intent::Water),
            ("is your soil dry", Intent::Water),
            ("Too much sun by the window?", Intent::Light),
            ("I had a bad day", Intent::Sad),
            ("what is this thing", Intent::Default),
            ("", Intent::Default),
        ] {
            assert_eq!(Intent::of(text), intent, "{text}");
        }
    }

    #[test]
    fn feelings_win_over_care_words_and_short_words_only_match_whole() {
        assert_eq!(Intent::of("I'm sad, did you get water?"), Intent::Sad);
        // "hi" inside "this" and "sun" inside "sunday" are not greetings or light.
        assert_eq!(Intent::of("this sunday"), Intent::Default);
    }

    #[test]
    fn every_intent_has_a_storage_name() {
        let names: Vec<_> = Intent::ALL.iter().map(|i| i.as_str()).collect();
        assert_eq!(names, ["greeting", "water", "light", "sad", "default"]);
    }
}
