/// The carrier keywords an SMS may consist of. They are case-insensitive and trimmed; anything
/// else is a message for a plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT: no more texts.
    OptOut,
    /// START, YES, UNSTOP: texts again.
    OptIn,
    /// HELP, INFO: what this number is.
    Help,
}

impl Keyword {
    /// The keyword `text` consists of, if any.
    #[must_use]
    pub fn of(text: &str) -> Option<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" => Some(Self::OptOut),
            "START" | "YES" | "UNSTOP" => Some(Self::OptIn),
            "HELP" | "INFO" => Some(Self::Help),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_recognised_in_any_case_and_with_spaces_around_them() {
        for text in [
            "STOP",
            "stop",
            " Stop ",
            "STOPALL",
            "unsubscribe",
            "Cancel",
            "end",
            "QUIT",
        ] {
            assert_eq!(Keyword::of(text), Some(Keyword::OptOut), "{text}");
        }
        for text in ["START", "yes", "Unstop\n"] {
            assert_eq!(Keyword::of(text), Some(Keyword::OptIn), "{text}");
        }
        for text in ["HELP", "info"] {
            assert_eq!(Keyword::of(text), Some(Keyword::Help), "{text}");
        }
    }

    #[test]
    fn a_keyword_inside_a_sentence_is_an_ordinary_message() {
        assert_eq!(Keyword::of("please stop"), None);
        assert_eq!(Keyword::of("STOP IT"), None);
        assert_eq!(Keyword::of("Fern: help"), None);
    }
}
