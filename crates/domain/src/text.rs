//! The rule names and nicknames share: printable text, trimmed, within a length.

/// `text` trimmed, when it then has 1 to `max_chars` characters and no control characters.
pub(crate) fn trimmed_printable(text: &str, max_chars: usize) -> Option<&str> {
    let trimmed = text.trim();
    let length = trimmed.chars().count();
    ((1..=max_chars).contains(&length) && !trimmed.chars().any(char::is_control)).then_some(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_checked() {
        assert_eq!(trimmed_printable("  ok ", 2), Some("ok"));
        assert_eq!(trimmed_printable("   ", 2), None);
        assert_eq!(trimmed_printable("abc", 2), None);
        assert_eq!(trimmed_printable("a\u{7}", 2), None);
    }
}
