//! The third parties: OPENAI_*, TWILIO_*, PUBLIC_BASE_URL and the daily SMS caps.

use std::time::Duration;

use domain::{phone::PhoneNumber, secret::Secret};

use super::{
    parse::{Reader, is_http_url},
    settings::{Environment, secs},
};

/// Chat model settings.
#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// No key: template replies only.
    pub api_key: Option<Secret>,
    /// Base URL of the API.
    pub base_url: String,
    pub model: String,
    /// Time limit of one attempt.
    pub timeout: Duration,
    /// Attempts per reply.
    pub max_attempts: u32,
    /// Time limit of all attempts together.
    pub budget: Duration,
    /// Longest reply, in tokens.
    pub max_tokens: u32,
    /// Sampling temperature, 0-2.
    pub temperature: f32,
}

/// Twilio credentials; present only when all three are set.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    pub account_sid: String,
    /// Auth token; signs webhooks.
    pub auth_token: Secret,
    /// The number messages are sent from.
    pub phone_number: PhoneNumber,
}

/// The chat model and the SMS provider.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// Chat model.
    pub openai: OpenAiSettings,
    /// SMS provider; `None` is demo mode.
    pub twilio: Option<TwilioSettings>,
    /// Base URL of the Twilio API.
    pub twilio_base_url: String,
    /// The public URL Twilio calls and signs.
    pub public_base_url: Option<String>,
    /// Outbound texts per account and per number over a rolling 24 h (`SMS_DAILY_LIMIT_PER_USER`).
    pub sms_daily_limit_per_user: u64,
    /// Outbound texts of the platform over a rolling 24 h (`SMS_DAILY_LIMIT`).
    pub sms_daily_limit: u64,
}

impl ProviderSettings {
    pub(super) fn read(r: &mut Reader, environment: Environment) -> Self {
        let sms_daily_limit_per_user = r.number("SMS_DAILY_LIMIT_PER_USER", 20_u64, 1, 10_000);
        let sms_daily_limit = r.number("SMS_DAILY_LIMIT", 10_000_u64, 1, 100_000_000);
        let openai = read_openai(r);
        let twilio = read_twilio(r);
        let twilio_base_url = r.text_or("TWILIO_BASE_URL", "https://api.twilio.com");
        if !is_http_url(&twilio_base_url) {
            r.problem(
                "TWILIO_BASE_URL",
                "must be an http(s) URL without a trailing slash",
            );
        }
        let public_base_url = r.text("PUBLIC_BASE_URL");
        if public_base_url
            .as_deref()
            .is_some_and(|url| !is_http_url(url))
        {
            r.problem("PUBLIC_BASE_URL", "must be an http(s) origin, optionally with a path prefix, without a trailing slash");
        }
        if twilio.is_some() && public_base_url.is_none() && environment.is_deployed() {
            r.problem(
                "PUBLIC_BASE_URL",
                "is required when Twilio is configured (webhook signatures are computed over it)",
            );
        }
        Self {
            openai,
            twilio,
            twilio_base_url,
            public_base_url,
            sms_daily_limit_per_user,
            sms_daily_limit,
        }
    }
}

fn read_openai(r: &mut Reader) -> OpenAiSettings {
    let base_url = r.text_or("OPENAI_BASE_URL", "https://api.openai.com/v1");
    if !is_http_url(&base_url) {
        r.problem(
            "OPENAI_BASE_URL",
            "must be an http(s) URL without a trailing slash",
        );
    }
    let timeout = r.number("OPENAI_TIMEOUT_SECS", 10_u64, 1, 300);
    let budget = r.number("OPENAI_BUDGET_SECS", 20_u64, 1, 600);
    if budget < timeout {
        r.problem("OPENAI_BUDGET_SECS", "must be at least OPENAI_TIMEOUT_SECS");
    }
    OpenAiSettings {
        api_key: r.secret("OPENAI_API_KEY"),
        base_url,
        model: r.text_or("OPENAI_MODEL", "gpt-4o-mini"),
        timeout: secs(timeout),
        max_attempts: r.number("OPENAI_MAX_ATTEMPTS", 3, 1, 10),
        budget: secs(budget),
        max_tokens: r.number("OPENAI_MAX_TOKENS", 200, 1, 4096),
        temperature: r.number("OPENAI_TEMPERATURE", 0.8_f32, 0.0, 2.0),
    }
}

/// All three TWILIO_* variables, or none of them (demo mode).
fn read_twilio(r: &mut Reader) -> Option<TwilioSettings> {
    let sid = r.text("TWILIO_ACCOUNT_SID");
    let token = r.secret("TWILIO_AUTH_TOKEN");
    let number = r.text("TWILIO_PHONE_NUMBER");
    match (sid, token, number) {
        (Some(account_sid), Some(auth_token), Some(number)) => match PhoneNumber::parse(&number) {
            Ok(phone_number) => Some(TwilioSettings {
                account_sid,
                auth_token,
                phone_number,
            }),
            Err(_) => {
                r.problem(
                    "TWILIO_PHONE_NUMBER",
                    "must be an E.164 number such as +14155552671",
                );
                None
            }
        },
        (None, None, None) => None,
        _ => {
            r.problem(
                "TWILIO_ACCOUNT_SID",
                "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER must be set together, or none of them (demo mode)",
            );
            None
        }
    }
}
