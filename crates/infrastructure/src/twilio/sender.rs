use std::time::Duration;

use application::sms::{OutgoingSms, SendSmsError, SentSms, SmsSender};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    phone::PhoneNumber,
    secret::Secret,
    sms::{SmsBody, SmsStatus},
};
use serde::Deserialize;

/// Twilio credentials and endpoint.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    /// `https://api.twilio.com`, or a mock in tests.
    pub base_url: String,
    /// The account SID (`AC...`).
    pub account_sid: String,
    /// The auth token: the basic-auth password, and the webhook signing key.
    pub auth_token: Secret,
    /// The number messages are sent from.
    pub from: PhoneNumber,
    /// Longest a send may take.
    pub timeout: Duration,
}

/// The HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("the Twilio client could not be built")]
pub struct TwilioError(#[source] reqwest::Error);

/// Sends through Twilio's Messages API: a form-encoded POST with basic auth.
#[derive(Debug, Clone)]
pub struct TwilioSmsSender {
    client: reqwest::Client,
    settings: TwilioSettings,
    endpoint: String,
}

/// The fields of Twilio's answer we use.
#[derive(Debug, Deserialize)]
struct MessageResource {
    sid: String,
    status: Option<String>,
}

/// A message as Twilio's Messages list shows it.
#[derive(Debug, Deserialize)]
struct ListedMessage {
    sid: String,
    status: Option<String>,
    to: Option<String>,
    body: Option<String>,
}

/// One page of Twilio's Messages list, newest first.
#[derive(Debug, Deserialize)]
struct MessageList {
    #[serde(default)]
    messages: Vec<ListedMessage>,
}

/// How long Twilio may hold a message in its queue before dropping it: less than the time after
/// which a send with an unknown outcome that a lookup cannot find is sent again
/// ([`domain::sms::outbox::NOT_FOUND_AFTER`], 30 minutes), so that a message still queued at
/// Twilio — not yet listed by `DateSent` — never goes out beside its second attempt.
const VALIDITY_PERIOD_SECS: &str = "1200";

/// How many messages one lookup reads: texts to one number in a day or two.
const LOOKUP_PAGE_SIZE: &str = "100";

/// Twilio's error document.
#[derive(Debug, Default, Deserialize)]
struct TwilioErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

impl TwilioSmsSender {
    /// A sender for `settings`.
    ///
    /// # Errors
    /// [`TwilioError`] when the HTTP client cannot be built.
    pub fn new(settings: TwilioSettings) -> Result<Self, TwilioError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("plant-texts/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.timeout)
            .build()
            .map_err(TwilioError)?;
        let endpoint = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            settings.base_url.trim_end_matches('/'),
            settings.account_sid
        );
        Ok(Self {
            client,
            settings,
            endpoint,
        })
    }
}

#[async_trait]
impl SmsSender for TwilioSmsSender {
    fn sender_number(&self) -> &str {
        self.settings.from.as_str()
    }

    #[tracing::instrument(name = "twilio.send", skip_all, fields(otel.kind = "client", to = %sms.to.masked(), status_code))]
    async fn send(&self, sms: &OutgoingSms) -> Result<SentSms, SendSmsError> {
        let mut form = vec![
            ("To", sms.to.as_str()),
            ("From", self.settings.from.as_str()),
            ("Body", sms.body.as_str()),
            ("ValidityPeriod", VALIDITY_PERIOD_SECS),
        ];
        if let Some(callback) = &sms.status_callback {
            form.push(("StatusCallback", callback.as_str()));
        }
        let response = self
            .client
            .post(&self.endpoint)
            .headers(crate::trace_context::outgoing_headers())
            .basic_auth(
                &self.settings.account_sid,
                Some(self.settings.auth_token.expose()),
            )
            .form(&form)
            .send()
            .await
            .map_err(|error| {
                // Only a refused connection proves Twilio never saw the request; a timeout or a
                // broken connection may come after Twilio took the message.
                if error.is_connect() {
                    SendSmsError::Unavailable("connection failed".to_owned())
                } else if error.is_timeout() {
                    SendSmsError::Unknown("timed out".to_owned())
                } else {
                    SendSmsError::Unknown("the connection broke".to_owned())
                }
            })?;
        let status = response.status();
        tracing::Span::current().record("status_code", status.as_u16());
        if status.is_success() {
            // Any 2xx means Twilio took the message; an answer we cannot read leaves its id
            // unknown, to be looked up.
            let message: MessageResource = response
                .json()
                .await
                .map_err(|error| SendSmsError::Unknown(format!("unreadable answer: {error}")))?;
            let status = match message.status.as_deref() {
                Some("sent") => SmsStatus::Sent,
                _ => SmsStatus::Queued,
            };
            return Ok(SentSms {
                provider_message_id: Some(message.sid),
                status,
            });
        }
        let body: TwilioErrorBody = response.json().await.unwrap_or_default();
        let message = body
            .message
            .unwrap_or_else(|| format!("HTTP status {}", status.as_u16()));
        let code = body.code.map(|code| code.to_string());
        if status.is_server_error() || status.as_u16() == 429 {
            Err(SendSmsError::Unavailable(message))
        } else {
            Err(SendSmsError::Rejected { code, message })
        }
    }

    #[tracing::instrument(name = "twilio.find_sent", skip_all, fields(otel.kind = "client", to = %to.masked(), found))]
    async fn find_sent(
        &self,
        to: &PhoneNumber,
        body: &SmsBody,
        attempted_at: DateTime<Utc>,
    ) -> Result<Vec<SentSms>, SendSmsError> {
        let day = attempted_at.format("%Y-%m-%d").to_string();
        let response = self
            .client
            .get(&self.endpoint)
            .headers(crate::trace_context::outgoing_headers())
            .basic_auth(
                &self.settings.account_sid,
                Some(self.settings.auth_token.expose()),
            )
            .query(&[
                ("To", to.as_str()),
                ("From", self.settings.from.as_str()),
                // Twilio reads `DateSent>` as "on or after that day".
                ("DateSent>", day.as_str()),
                ("PageSize", LOOKUP_PAGE_SIZE),
            ])
            .send()
            .await
            // Without its URL: the query names the recipient's number.
            .map_err(|error| {
                SendSmsError::Unavailable(format!("lookup failed: {}", error.without_url()))
            })?;
        if !response.status().is_success() {
            return Err(SendSmsError::Unavailable(format!(
                "lookup answered HTTP status {}",
                response.status().as_u16()
            )));
        }
        let list: MessageList = response
            .json()
            .await
            .map_err(|error| SendSmsError::Unavailable(format!("unreadable lookup: {error}")))?;
        let found: Vec<SentSms> = list
            .messages
            .into_iter()
            .filter(|message| {
                message.to.as_deref() == Some(to.as_str())
                    && message.body.as_deref() == Some(body.as_str())
            })
            .filter_map(|message| {
                Some(SentSms {
                    status: SmsStatus::from_provider(message.status.as_deref()?)?,
                    provider_message_id: Some(message.sid),
                })
            })
            .collect();
        tracing::Span::current().record("found", found.len());
        Ok(found)
    }
}
