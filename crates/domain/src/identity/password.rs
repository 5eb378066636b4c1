use std::{collections::HashSet, sync::OnceLock};

use super::{Email, TenantSlug};
use crate::secret::Secret;

/// The 3,000 most common passwords, lower-case (see assets/README.md for their origin).
const COMMON_PASSWORDS: &str = include_str!("../../assets/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .filter(|line| !line.is_empty())
            .collect()
    })
}

/// A new password that follows the policy of OWASP ASVS 5 §6.2: 12-128 characters (any Unicode,
/// spaces allowed), no composition rules, not one of the most common passwords, and not
/// containing the account's email local part (3+ characters) or the tenant slug.
///
/// It is held as a [`Secret`] so that it never reaches a log.
#[derive(Debug, Clone)]
pub struct Password(Secret);

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejected {
    /// Fewer than 12 characters.
    #[error("must be at least 12 characters")]
    TooShort,
    /// More than 128 characters.
    #[error("must be at most 128 characters")]
    TooLong,
    /// One of the most common passwords.
    #[error("is too common; choose a less predictable password")]
    Common,
    /// Contains the email address's local part.
    #[error("must not contain your email address")]
    ContainsEmail,
    /// Contains the tenant's slug.
    #[error("must not contain the organisation's name")]
    ContainsTenantSlug,
}

impl Password {
    /// Checks a new password for the account `email` in tenant `tenant`. The checks against
    /// the common list, the email and the slug are case-insensitive.
    ///
    /// # Errors
    /// [`PasswordRejected`] names the first rule broken.
    pub fn parse(text: &str, email: &Email, tenant: &TenantSlug) -> Result<Self, PasswordRejected> {
        Self::check_alone(text)?;
        let lower = text.to_lowercase();
        let local_part = email.local_part();
        if local_part.chars().count() >= 3 && lower.contains(local_part) {
            return Err(PasswordRejected::ContainsEmail);
        }
        if lower.contains(tenant.as_str()) {
            return Err(PasswordRejected::ContainsTenantSlug);
        }
        Ok(Self(Secret::new(text)))
    }

    /// The rules that need no context: length and the common-password list. Used to report a
    /// bad password even when the email or tenant it would be checked against is itself invalid.
    ///
    /// # Errors
    /// [`PasswordRejected`] names the first rule broken.
    pub fn check_alone(text: &str) -> Result<(), PasswordRejected> {
        let length = text.chars().count();
        if length < 12 {
            return Err(PasswordRejected::TooShort);
        }
        if length > 128 {
            return Err(PasswordRejected::TooLong);
        }
        if common_passwords().contains(text.to_lowercase().as_str()) {
            return Err(PasswordRejected::Common);
        }
        Ok(())
    }

    /// A password that passed the policy when it was set and has just been verified against its
    /// hash: used to hash it again with new parameters. The policy is not applied twice because
    /// the common-password list may have grown since, and refusing a login for that would lock
    /// the user out.
    #[must_use]
    pub fn accepted_before(verified: &Secret) -> Self {
        Self(verified.clone())
    }

    /// The password, for the hasher only.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Password, PasswordRejected> {
        let email = Email::parse("ada.lovelace@example.com").unwrap();
        let tenant = TenantSlug::parse("greenhouse").unwrap();
        Password::parse(text, &email, &tenant)
    }

    #[test]
    fn the_list_holds_three_thousand_passwords() {
        assert_eq!(common_passwords().len(), 3000);
        assert!(common_passwords().contains("password"));
    }

    #[test]
    fn a_long_unusual_password_with_spaces_and_unicode_is_accepted() {
        let password = check("correct horse battery staple ünïcode").unwrap();
        assert_eq!(password.expose(), "correct horse battery staple ünïcode");
        assert_eq!(format!("{password:?}"), "Password([redacted])");
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(
            check("ßßßßßßßßßßß").unwrap_err(),
            PasswordRejected::TooShort
        );
        assert!(check("ßßßßßßßßßßßß").is_ok());
        assert!(check(&"x".repeat(128)).is_ok());
        assert_eq!(
            check(&"x".repeat(129)).unwrap_err(),
            PasswordRejected::TooLong
        );
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        let long_common = common_passwords()
            .iter()
            .find(|p| p.chars().count() >= 12)
            .expect("the list holds long passwords too");
        assert_eq!(check(long_common).unwrap_err(), PasswordRejected::Common);
        assert_eq!(
            check(&long_common.to_uppercase()).unwrap_err(),
            PasswordRejected::Common
        );
    }

    #[test]
    fn the_email_local_part_and_the_tenant_slug_are_refused_case_insensitively() {
        assert_eq!(
            check("my-Ada.Lovelace-rocks").unwrap_err(),
            PasswordRejected::ContainsEmail
        );
        assert_eq!(
            check("I love GreenHouse plants").unwrap_err(),
            PasswordRejected::ContainsTenantSlug
        );
    }

    #[test]
    fn a_short_local_part_is_not_checked() {
        let email = Email::parse("al@example.com").unwrap();
        let tenant = TenantSlug::parse("demo").unwrap();
        assert!(Password::parse("totally algebraic walrus", &email, &tenant).is_ok());
    }
}
