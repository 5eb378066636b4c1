//! TwiML, the XML Twilio reads a webhook's answer from.

use actix_web::HttpResponse;

/// The longest message a TwiML answer carries, in characters (Twilio's limit for one message).
const MAX_MESSAGE_CHARS: usize = 1600;

/// A TwiML answer: one `<Message>` with `text` (cut to 1600 characters), or an empty
/// `<Response/>` (no reply).
pub(crate) fn twiml_response(text: Option<&str>) -> HttpResponse {
    let body = match text {
        Some(text) => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{}</Message></Response>",
            escape_xml(text)
        ),
        None => "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>".to_owned(),
    };
    HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(body)
}

/// `text` as XML character data: the characters XML 1.0 forbids (control characters but tab and
/// line breaks, U+FFFE, U+FFFF) dropped, at most 1600 characters kept, and the five predefined
/// entities escaped.
fn escape_xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    let allowed = text
        .chars()
        .filter(|c| {
            matches!(c, '\t' | '\n' | '\r')
                || !(c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        })
        .take(MAX_MESSAGE_CHARS);
    for c in allowed {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_reply_is_escaped() {
        assert_eq!(
            escape_xml(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &apos;Jerry&apos;&lt;/b&gt;"
        );
        assert_eq!(escape_xml("line\nbreak\u{0}🌿"), "line\nbreak🌿");
        assert_eq!(escape_xml("a\u{FFFE}b\u{FFFF}c\u{1b}d"), "abcd");
    }

    #[test]
    fn a_reply_is_cut_to_1600_characters_before_escaping() {
        let long = "&".repeat(2000);
        let escaped = escape_xml(&long);
        assert_eq!(escaped, "&amp;".repeat(1600));
        assert_eq!(escape_xml(&"🌿".repeat(1700)).chars().count(), 1600);
    }
}
