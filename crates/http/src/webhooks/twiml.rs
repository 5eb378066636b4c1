//! TwiML, the XML Twilio reads a webhook's answer from.

use actix_web::HttpResponse;

/// A TwiML answer: one `<Message>` with `text`, or an empty `<Response/>` (no reply).
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

/// `text` as XML character data: the five predefined entities escaped, and the characters XML
/// 1.0 forbids (most control characters) dropped.
fn escape_xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(c),
            c if c.is_control() => {}
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
    }
}
