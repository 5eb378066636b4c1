//! Phone verification (SPEC §6.1): a code texted to the account's number, confirmed by the
//! account, marks the number verified. Until then the number gets no text but the code.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::{
    identity::User,
    sms::{
        SmsPurpose,
        verification::{CODE_LIFETIME, CODES_PER_HOUR, TRIES_PER_CODE, VerificationCode},
    },
};

use super::{
    outbox::SmsOutbox,
    ports::{CodeCheck, NewVerification, VerificationCodes},
};
use crate::{
    failure::{Failure, failed_from},
    identity::{Principal, ports::UserRepository},
    plants::Owner,
    system::{Clock, IdGenerator},
};

/// Everything phone verification needs, wired by the server.
#[derive(Clone)]
pub struct PhoneVerificationPorts {
    /// The accounts.
    pub users: Arc<dyn UserRepository>,
    /// The codes sent.
    pub codes: Arc<dyn VerificationCodes>,
    /// Sends the code.
    pub outbox: SmsOutbox,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for PhoneVerificationPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneVerificationPorts")
            .finish_non_exhaustive()
    }
}

/// A code on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSent {
    /// The number, masked.
    pub sent_to: String,
    /// Until when the code is valid.
    pub expires_at: DateTime<Utc>,
}

/// Why no code was sent.
#[derive(Debug, thiserror::Error)]
pub enum RequestCodeError {
    /// The account has no phone number.
    #[error("the account has no phone number to verify")]
    NoPhone,
    /// Three codes went to this account or number within the hour.
    #[error("too many codes were sent; retry in {retry_after_secs} s")]
    TooManyCodes {
        /// Seconds until another code may be sent.
        retry_after_secs: u64,
    },
    /// The account no longer exists.
    #[error("the account does not exist")]
    NotFound,
    /// A failure that is not the caller's: a dependency down (503) or a bug (500).
    #[error(transparent)]
    Failed(#[from] Failure),
}

failed_from!(RequestCodeError);

/// Why a number was not verified.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmPhoneError {
    /// Wrong, used, expired or voided code (or none was sent to the current number).
    #[error("the code is wrong, used or expired")]
    InvalidCode,
    /// The account no longer exists.
    #[error("the account does not exist")]
    NotFound,
    /// A failure that is not the caller's: a dependency down (503) or a bug (500).
    #[error(transparent)]
    Failed(#[from] Failure),
}

failed_from!(ConfirmPhoneError);

/// The phone-verification use cases.
#[derive(Clone)]
pub struct PhoneVerification {
    ports: PhoneVerificationPorts,
}

impl std::fmt::Debug for PhoneVerification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneVerification").finish_non_exhaustive()
    }
}

impl PhoneVerification {
    /// The use cases over `ports`.
    #[must_use]
    pub const fn new(ports: PhoneVerificationPorts) -> Self {
        Self { ports }
    }

    async fn caller(&self, principal: &Principal) -> Result<Option<User>, Failure> {
        Ok(self
            .ports
            .users
            .find(principal.tenant_id, principal.user_id)
            .await?)
    }

    /// Texts a new code to the caller's number, at most three an hour per account and per
    /// number. The text goes through the outbox like every other (logged; demo mode only logs).
    ///
    /// # Errors
    /// [`RequestCodeError`] says why no code was sent.
    #[tracing::instrument(name = "phone.request_code", skip_all, fields(user_id = %principal.user_id))]
    pub async fn request_code(&self, principal: &Principal) -> Result<CodeSent, RequestCodeError> {
        let user = self
            .caller(principal)
            .await?
            .ok_or(RequestCodeError::NotFound)?;
        let phone = user.phone.clone().ok_or(RequestCodeError::NoPhone)?;
        let now = self.ports.clock.now();
        let hour_ago = now - chrono::TimeDelta::hours(1);
        let recent = self
            .ports
            .codes
            .sent_since(user.id, &phone, hour_ago)
            .await?;
        if u64::try_from(recent.len()).unwrap_or(u64::MAX) >= CODES_PER_HOUR {
            let oldest = recent.iter().min().copied().unwrap_or(now);
            let wait = (oldest + chrono::TimeDelta::hours(1) - now)
                .num_seconds()
                .max(1);
            return Err(RequestCodeError::TooManyCodes {
                retry_after_secs: u64::try_from(wait).unwrap_or(1),
            });
        }
        let code = self.ports.codes.generate();
        let body = code.message().map_err(Failure::unexpected)?;
        let expires_at = now + CODE_LIFETIME;
        self.ports
            .codes
            .store(&NewVerification {
                id: self.ports.ids.new_id(),
                user_id: user.id,
                phone: phone.clone(),
                code,
                expires_at,
                created_at: now,
            })
            .await?;
        self.ports
            .outbox
            .send(
                Some(Owner::from(principal)),
                phone.clone(),
                body,
                SmsPurpose::Verification,
            )
            .await
            .map_err(|error| Failure::from(error.0))?;
        tracing::info!(to = %phone.masked(), "verification code sent");
        Ok(CodeSent {
            sent_to: phone.masked(),
            expires_at,
        })
    }

    /// Confirms the caller's number with `code`: the newest live code of that number, tried at
    /// most five times in all (concurrent guesses included).
    ///
    /// # Errors
    /// [`ConfirmPhoneError`] says why the number stays unverified.
    #[tracing::instrument(name = "phone.confirm", skip_all, fields(user_id = %principal.user_id))]
    pub async fn confirm(
        &self,
        principal: &Principal,
        code: &VerificationCode,
    ) -> Result<User, ConfirmPhoneError> {
        let user = self
            .caller(principal)
            .await?
            .ok_or(ConfirmPhoneError::NotFound)?;
        let phone = user.phone.clone().ok_or(ConfirmPhoneError::InvalidCode)?;
        let now = self.ports.clock.now();
        let check = self
            .ports
            .codes
            .try_code(user.id, &phone, code, now, TRIES_PER_CODE)
            .await?;
        if check != CodeCheck::Confirmed {
            tracing::info!(?check, "phone verification refused");
            return Err(ConfirmPhoneError::InvalidCode);
        }
        if !self
            .ports
            .users
            .mark_phone_verified(user.tenant_id, user.id, &phone, now)
            .await?
        {
            return Err(ConfirmPhoneError::InvalidCode);
        }
        tracing::info!(to = %phone.masked(), "phone verified");
        self.caller(principal)
            .await?
            .ok_or(ConfirmPhoneError::NotFound)
    }
}
