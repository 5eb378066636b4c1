//! The last stop of every log line: secrets and phone numbers are masked whatever field (or
//! text) they hide in, so that a careless `tracing::info!(?request)` leaks nothing.
//!
//! - A field whose name says it holds a secret (password, token, secret, API key,
//!   authorization, cookie, signature, admin key, credential) is replaced by `[REDACTED]`.
//! - In every text: bearer and basic credentials, JSON Web Tokens and `name=value` pairs of
//!   those names are replaced; phone numbers in E.164 form keep only their ends
//!   (`+1415***2671`).

use std::{
    borrow::Cow,
    cell::RefCell,
    io::{self, Write},
    sync::LazyLock,
};

use memchr::memmem::Finder;
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// Field names (lower case, without `_`, `-` and `.`) that hold secrets, matched as parts.
const SECRET_NAMES: [&str; 11] = [
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "authorization",
    "cookie",
    "signature",
    "adminkey",
    "credential",
    "privatekey",
];

/// Short names that hold secrets only when they are the whole name (`auth`, not `author`).
const SECRET_WORDS: [&str; 4] = ["pwd", "pass", "auth", "jwt"];

/// Whether a field called `name` holds a secret.
#[must_use]
pub fn is_secret_name(name: &str) -> bool {
    let mut normalised = String::with_capacity(name.len());
    normalise_into(name, &mut normalised);
    SECRET_NAMES
        .iter()
        .any(|secret| normalised.contains(secret))
        || SECRET_WORDS.contains(&normalised.as_str())
}

/// What the quick check looks for in a line's normalised text: a secret's name or part of one, a
/// credential scheme, the start of a JSON Web Token (`eyJ`) and a URL-encoded `+`.
const NEEDLES: [&str; 14] = [
    "key",
    "pass",
    "pwd",
    "secret",
    "token",
    "auth",
    "cookie",
    "signature",
    "credential",
    "jwt",
    "bearer",
    "basic",
    "eyj",
    "%2b",
];

/// Whether `text` may hold anything to mask: a secret's name (however it is spelled), a
/// credential scheme, a JSON Web Token or a `+` or `%2B` before a number. Most lines hold none
/// and are passed on without being parsed.
#[must_use]
pub fn may_hold_secrets(text: &str) -> bool {
    // Every log line passes here, so the searchers are built once and the text is normalised
    // into one buffer per thread (the check was a twentieth of a `/health/live`).
    static FINDERS: LazyLock<[Finder<'static>; NEEDLES.len()]> =
        LazyLock::new(|| NEEDLES.map(Finder::new));
    thread_local! {
        static NORMALISED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    if text.contains('+') {
        return true;
    }
    NORMALISED.with_borrow_mut(|normalised| {
        normalised.clear();
        if text.is_ascii() {
            normalise_ascii_into(text.as_bytes(), normalised);
        } else {
            let mut spelled = String::with_capacity(text.len());
            normalise_into(text, &mut spelled);
            normalised.extend_from_slice(spelled.as_bytes());
        }
        FINDERS
            .iter()
            .any(|finder| finder.find(normalised).is_some())
    })
}

/// Appends `text` to `normalised` as names are compared: lower case, without `_`, `-`, `.` and
/// spaces. One spelling for the quick check and the field names, so that whatever a name
/// check would catch, the quick check lets through to it (`\u{212A}` — the Kelvin sign —
/// lower-cases to `k`).
fn normalise_into(text: &str, normalised: &mut String) {
    normalised.extend(
        text.chars()
            .filter(|c| !is_separator(*c))
            .flat_map(char::to_lowercase),
    );
}

/// [`normalise_into`] for ASCII text, byte by byte.
fn normalise_ascii_into(text: &[u8], normalised: &mut Vec<u8>) {
    normalised.extend(
        text.iter()
            .filter(|byte| !is_separator(char::from(**byte)))
            .map(u8::to_ascii_lowercase),
    );
}

/// What a name may be split by: `api_key`, `api-key`, `api.key` and `api key` are one name.
const fn is_separator(c: char) -> bool {
    matches!(c, '_' | '-' | '.' | ' ')
}

/// One log line with its secrets masked: a JSON object field by field, anything else as text.
#[must_use]
pub fn redact_line(line: &str) -> String {
    let trimmed = line.trim_end_matches('\n');
    let redacted = match serde_json::from_str::<Value>(trimmed) {
        // A line with nothing to hide is passed on as it was, its fields in their order.
        Ok(mut value @ Value::Object(_)) => {
            if redact_value(&mut value) {
                value.to_string()
            } else {
                trimmed.to_owned()
            }
        }
        _ => redact_text(trimmed),
    };
    if line.ends_with('\n') {
        redacted + "\n"
    } else {
        redacted
    }
}

/// Masks the secrets of `value` in place; whether anything was masked.
fn redact_value(value: &mut Value) -> bool {
    match value {
        Value::Object(fields) => {
            let mut changed = false;
            for (name, field) in fields.iter_mut() {
                if is_secret_name(name) && !field.is_null() {
                    if field.as_str() != Some(REDACTED) {
                        *field = Value::String(REDACTED.to_owned());
                        changed = true;
                    }
                } else {
                    changed |= redact_value(field);
                }
            }
            changed
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, item| redact_value(item) | changed),
        Value::String(text) => {
            let redacted = redact_text(text);
            if redacted == *text {
                false
            } else {
                *text = redacted;
                true
            }
        }
        _ => false,
    }
}

/// Masks credentials, tokens, secret `name=value` pairs and phone numbers in free text.
#[must_use]
pub fn redact_text(text: &str) -> String {
    let text = redact_schemes(text);
    let text = redact_pairs(&text);
    let text = redact_json_web_tokens(&text);
    redact_phone_numbers(&text)
}

/// `Bearer <x>` and `Basic <x>` lose `<x>`.
fn redact_schemes(text: &str) -> String {
    // Lower-cased once: ASCII lower-casing keeps every byte where it was.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut position = 0;
    loop {
        let found = ["bearer ", "basic "]
            .iter()
            .filter_map(|scheme| {
                lower[position..]
                    .find(scheme)
                    .map(|at| (position + at, scheme.len()))
            })
            .min();
        let Some((at, length)) = found else {
            out.push_str(&text[position..]);
            return out;
        };
        out.push_str(&text[position..at + length]);
        let after = &text[at + length..];
        let credential_length = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '}'))
            .unwrap_or(after.len());
        if credential_length > 0 {
            out.push_str(REDACTED);
        }
        position = at + length + credential_length;
    }
}

/// `password=hunter2`, `token: "abc"` and the like lose their value.
fn redact_pairs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['=', ':']) {
        let (before, after) = rest.split_at(at);
        // A quoted name (`"x-admin-api-key": ...`) is read inside its quotes.
        let unquoted = before.strip_suffix('"').unwrap_or(before);
        let name_start = unquoted
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .map_or(0, |(index, c)| index + c.len_utf8());
        let name = &unquoted[name_start..];
        out.push_str(before);
        out.push_str(&after[..1]);
        let value = &after[1..];
        if !name.is_empty() && is_secret_name(name) {
            let leading = value.len() - value.trim_start_matches(' ').len();
            let body = &value[leading..];
            out.push_str(&value[..leading]);
            // A quoted value runs to its closing quote, spaces and commas included.
            let (opening, inner) = match body.strip_prefix('"') {
                Some(inner) => ("\"", inner),
                None => ("", body),
            };
            let end = if opening.is_empty() {
                inner
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | ',' | ';' | '}' | '&'))
                    .unwrap_or(inner.len())
            } else {
                inner.find('"').unwrap_or(inner.len())
            };
            out.push_str(opening);
            if end > 0 && &inner[..end] != REDACTED {
                out.push_str(REDACTED);
            } else {
                out.push_str(&inner[..end]);
            }
            rest = &inner[end..];
        } else {
            rest = value;
        }
    }
    out.push_str(rest);
    out
}

/// Three base64url parts beginning `eyJ` (a JSON header): a JSON Web Token.
fn redact_json_web_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("eyJ") {
        out.push_str(&rest[..at]);
        let candidate = &rest[at..];
        let end = candidate
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(candidate.len());
        if candidate[..end].matches('.').count() >= 2 {
            out.push_str(REDACTED);
        } else {
            out.push_str(&candidate[..end]);
        }
        rest = &candidate[end..];
        if end == 0 {
            // Cannot happen ("eyJ" is alphanumeric); keeps the loop finite regardless.
            out.push_str(rest);
            return out;
        }
    }
    out.push_str(rest);
    out
}

/// `+` (or `%2B`, URL-encoded) and 8 to 15 digits, single spaces, dashes, dots or brackets
/// allowed between them (E.164 and its written forms, also inside `whatsapp:+...`): only the
/// ends stay.
fn redact_phone_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut index = 0;
    let mut copied = 0;
    while index < bytes.len() {
        let prefix = if bytes[index] == b'+' {
            1
        } else if bytes[index..].len() >= 3 && bytes[index..index + 3].eq_ignore_ascii_case(b"%2B")
        {
            3
        } else {
            0
        };
        if prefix > 0 && (index == 0 || !bytes[index - 1].is_ascii_alphanumeric()) {
            let (digits, length) = phone_digits(&bytes[index + prefix..]);
            if (8..=15).contains(&digits.len()) {
                out.push_str(&text[copied..index]);
                out.push_str(&domain::phone::mask_phone(&format!("+{digits}")));
                index += prefix + length;
                copied = index;
                continue;
            }
        }
        index += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// The digits of a written number at the start of `bytes`, and how many bytes it takes: digits
/// with single separators between them, never ending on a separator.
fn phone_digits(bytes: &[u8]) -> (String, usize) {
    let mut digits = String::new();
    let mut length = 0;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte.is_ascii_digit() {
            digits.push(char::from(byte));
            index += 1;
            length = index;
        } else if matches!(byte, b' ' | b'-' | b'.' | b'(' | b')')
            && !digits.is_empty()
            && bytes.get(index + 1).is_some_and(u8::is_ascii_digit)
        {
            index += 1;
        } else {
            break;
        }
    }
    (digits, length)
}

/// A [`MakeWriter`] whose writers redact each line before passing it on. The formatter writes
/// one whole event per writer, so each write is a line (or a few).
#[derive(Debug, Clone)]
pub struct Redacting<M> {
    inner: M,
}

impl<M> Redacting<M> {
    /// Redacts what is written to `inner`.
    pub const fn new(inner: M) -> Self {
        Self { inner }
    }
}

/// One event's writer.
#[derive(Debug)]
pub struct RedactingWriter<W> {
    inner: W,
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        // The formatter writes text; checking it as UTF-8 is quicker than the lossy conversion.
        let text = std::str::from_utf8(buffer)
            .map_or_else(|_| String::from_utf8_lossy(buffer), Cow::Borrowed);
        if !may_hold_secrets(&text) {
            self.inner.write_all(buffer)?;
            return Ok(buffer.len());
        }
        let redacted: String = text.split_inclusive('\n').map(redact_line).collect();
        self.inner.write_all(redacted.as_bytes())?;
        Ok(buffer.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<'writer, M> MakeWriter<'writer> for Redacting<M>
where
    M: MakeWriter<'writer>,
{
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'writer self) -> Self::Writer {
        RedactingWriter {
            inner: self.inner.make_writer(),
        }
    }

    fn make_writer_for(&'writer self, metadata: &tracing::Metadata<'_>) -> Self::Writer {
        RedactingWriter {
            inner: self.inner.make_writer_for(metadata),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_named_like_secrets_are_replaced_whatever_their_case_or_separator() {
        let line = r#"{"message":"login","password":"hunter2","Authorization":"Bearer abc","x-admin-api-key":"k","X_Twilio_Signature":"sig","refresh_token":"r","nested":{"api_key":"sk-1"},"status":200}"#;
        let redacted: Value = serde_json::from_str(&redact_line(line)).unwrap();
        for field in [
            "password",
            "Authorization",
            "x-admin-api-key",
            "X_Twilio_Signature",
            "refresh_token",
        ] {
            assert_eq!(redacted[field], REDACTED, "{field}");
        }
        assert_eq!(redacted["nested"]["api_key"], REDACTED);
        assert_eq!(redacted["status"], 200);
        assert_eq!(redacted["message"], "login");
    }

    #[test]
    fn secrets_inside_free_text_are_masked() {
        let text = "headers: authorization=Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl, cookie: \"session=abc\" password=hunter2 Basic dXNlcjpwYXNz";
        let redacted = redact_text(text);
        for secret in [
            "eyJhbGciOiJIUzI1NiJ9",
            "hunter2",
            "session=abc",
            "dXNlcjpwYXNz",
        ] {
            assert!(!redacted.contains(secret), "{secret} in {redacted}");
        }
        assert!(redacted.contains("headers:"), "{redacted}");
    }

    #[test]
    fn a_bare_json_web_token_is_masked() {
        let redacted = redact_text("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln was refused");
        assert_eq!(redacted, format!("token {REDACTED} was refused"));
    }

    #[test]
    fn phone_numbers_keep_only_their_ends() {
        assert_eq!(
            redact_text("texting +14155552671 and whatsapp:+447911123456."),
            "texting +1415***2671 and whatsapp:+4479***3456."
        );
    }

    #[test]
    fn written_and_url_encoded_numbers_are_masked_too() {
        assert_eq!(
            redact_text("call +1 415-555 2671 or To=%2B14155552671&From=%2b15005550006"),
            "call +1415***2671 or To=+1415***2671&From=+1500***0006"
        );
    }

    #[test]
    fn quoted_names_and_quoted_values_are_masked_whole() {
        let text = r#"{"x-admin-api-key": "k e y", "password": "correct horse", "pwd": "x"} auth=abc author=Ann"#;
        let redacted = redact_text(text);
        for secret in ["k e y", "correct horse", "\"x\"", "abc"] {
            assert!(!redacted.contains(secret), "{secret} in {redacted}");
        }
        assert!(redacted.contains("author=Ann"), "{redacted}");
    }

    #[test]
    fn short_numbers_amounts_and_ids_are_left_alone() {
        for text in ["+1234", "total +12.50", "id 14155552671", "a+b", "v1.2+3"] {
            assert_eq!(redact_text(text), text);
        }
    }

    #[test]
    fn text_around_non_ascii_characters_is_handled() {
        assert_eq!(
            redact_text("pétale=1 clé: password=x"),
            format!("pétale=1 clé: password={REDACTED}")
        );
    }

    #[test]
    fn everything_the_redaction_changes_is_flagged_by_the_quick_check() {
        for text in [
            r#"{"password":"p"}"#,
            "x_ADMIN-api.KEY=1",
            "sec_ret=1",
            "Authorization: Basic abc",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
            "to %2B14155552671",
            "+1 415 555 2671",
            "{\"api\u{212A}ey\":\"k\"}",
        ] {
            assert_ne!(redact_line(text), text, "{text} needs masking");
            assert!(may_hold_secrets(text), "{text}");
        }
        let access_log = r#"{"timestamp":"2026-12-01T04:00:00.000000Z","level":"INFO","message":"request completed","status":200,"request_id":"01a2"}"#;
        assert!(!may_hold_secrets(access_log));
    }

    #[test]
    fn ordinary_lines_pass_unchanged() {
        let line = r#"{"message":"request completed","status":200,"duration_ms":3,"route":"/api/v2/plants/{id}"}"#;
        assert_eq!(redact_line(line), line);
        let text = "INFO request completed status=200 duration_ms=3\n";
        assert_eq!(redact_line(text), text);
    }

    #[test]
    fn a_written_event_is_redacted_line_by_line() {
        let mut out = Vec::new();
        let mut writer = RedactingWriter { inner: &mut out };
        writer
            .write_all(b"{\"password\":\"p\"}\nplain +14155552671\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"password\":\"[REDACTED]\"}\nplain +1415***2671\n"
        );
    }
}
