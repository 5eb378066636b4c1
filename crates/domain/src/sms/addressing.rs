/// An inbound text split into the plant it names, if any, and what it says: "Fern: how are you?"
/// names Fern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addressed<'a> {
    /// The nickname before the first colon, trimmed.
    pub nickname: Option<&'a str>,
    /// The message after it, trimmed; the whole text when no plant is named.
    pub text: &'a str,
}

impl<'a> Addressed<'a> {
    /// Splits `text` at its first colon when what comes before could be a nickname (1-50
    /// characters on one line) and something follows it.
    #[must_use]
    pub fn parse(text: &'a str) -> Self {
        if let Some((name, rest)) = text.split_once(':') {
            let name = name.trim();
            let rest = rest.trim();
            if (1..=50).contains(&name.chars().count()) && !name.contains('\n') && !rest.is_empty()
            {
                return Self {
                    nickname: Some(name),
                    text: rest,
                };
            }
        }
        Self {
            nickname: None,
            text: text.trim(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_before_a_colon_addresses_a_plant() {
        assert_eq!(
            Addressed::parse("Fern: how are you?"),
            Addressed {
                nickname: Some("Fern"),
                text: "how are you?"
            }
        );
        assert_eq!(
            Addressed::parse(" Mr. Prickles :time: 5pm"),
            Addressed {
                nickname: Some("Mr. Prickles"),
                text: "time: 5pm"
            }
        );
    }

    #[test]
    fn a_text_without_a_usable_name_addresses_nobody() {
        for text in ["how are you?", ": hello", "Fern:", "Fern:   "] {
            assert_eq!(Addressed::parse(text).nickname, None, "{text}");
        }
        assert_eq!(Addressed::parse("  hi  ").text, "hi");
        let long = format!("{}: hi", "a".repeat(51));
        assert_eq!(Addressed::parse(&long).nickname, None);
        assert_eq!(Addressed::parse("line\nbreak: hi").nickname, None);
    }
}
