//! Phone verification (SPEC §6.1): a six-digit code sent to the number proves that whoever set it
//! holds it. Only verified numbers receive texts other than the code itself.

use chrono::TimeDelta;

use super::{InvalidSmsBody, SmsBody};

/// How long a code stays valid.
pub const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(10);
/// Tries a code allows, right or wrong; the next one finds it void.
pub const TRIES_PER_CODE: u32 = 5;
/// Codes one account, and one number, may be sent per hour.
pub const CODES_PER_HOUR: u64 = 3;
/// How long an unverified number keeps other accounts from using it.
pub const UNVERIFIED_HOLD: TimeDelta = TimeDelta::hours(24);

/// A six-digit verification code.
#[derive(Clone, PartialEq, Eq)]
pub struct VerificationCode(String);

/// The text is not six digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be the 6-digit code")]
pub struct InvalidVerificationCode;

impl VerificationCode {
    /// Parses a code as typed: six ASCII digits, surrounding spaces ignored.
    ///
    /// # Errors
    /// [`InvalidVerificationCode`] for anything else.
    pub fn parse(text: &str) -> Result<Self, InvalidVerificationCode> {
        let code = text.trim();
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(code.to_owned()))
        } else {
            Err(InvalidVerificationCode)
        }
    }

    /// The code made from a number below one million (leading zeros kept).
    #[must_use]
    pub fn from_number(number: u32) -> Self {
        Self(format!("{:06}", number % 1_000_000))
    }

    /// The digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text that carries the code.
    ///
    /// # Errors
    /// Never in practice (the text is short and printable); the body's own rule decides.
    pub fn message(&self) -> Result<SmsBody, InvalidSmsBody> {
        SmsBody::parse(&format!("{MESSAGE_PREFIX}{}", self.0))
    }
}

/// What every code message starts with.
const MESSAGE_PREFIX: &str = "Plant Texts code: ";

/// `body` with the code of a verification message hidden (`Plant Texts code: ******`), so that
/// what an account can read about its texts — its export, the admin's SMS log — never hands
/// out a code for a number it may not hold. Other texts come back unchanged.
#[must_use]
pub fn redact_verification_code(body: &str) -> String {
    match body.strip_prefix(MESSAGE_PREFIX) {
        Some(code) => format!("{MESSAGE_PREFIX}{}", "*".repeat(code.chars().count())),
        None => body.to_owned(),
    }
}

impl std::fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerificationCode([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_six_digits() {
        assert_eq!(
            VerificationCode::parse(" 012345 ").unwrap().as_str(),
            "012345"
        );
        for bad in ["12345", "1234567", "12a456", "", "１２３４５６"] {
            assert!(VerificationCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(VerificationCode::from_number(42).as_str(), "000042");
    }

    #[test]
    fn the_message_carries_the_code_and_debug_hides_it() {
        let code = VerificationCode::from_number(123_456);
        assert_eq!(code.message().unwrap().as_str(), "Plant Texts code: 123456");
        assert!(!format!("{code:?}").contains("123456"));
        assert_eq!(
            redact_verification_code(code.message().unwrap().as_str()),
            "Plant Texts code: ******"
        );
        assert_eq!(redact_verification_code("Fern: water me"), "Fern: water me");
    }
}
