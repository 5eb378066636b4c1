use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use application::chat::{ChatModel, ChatModelError, ChatPrompt, Speaker};
use async_trait::async_trait;
use domain::secret::Secret;
use rand::Rng as _;
use reqwest::{StatusCode, header};
use serde::{Deserialize, Serialize};

use super::{Pause, TokioPause};

/// How to call OpenAI.
#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// The API key, sent as a bearer token and never logged.
    pub api_key: Secret,
    /// `https://api.openai.com/v1`, or a compatible server.
    pub base_url: String,
    /// The model, e.g. `gpt-4o-mini`.
    pub model: String,
    /// Longest reply, in tokens.
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
    /// Longest one attempt may take.
    pub attempt_timeout: Duration,
    /// Most attempts per reply.
    pub max_attempts: u32,
    /// Longest all attempts and waits together may take.
    pub budget: Duration,
    /// The first wait between attempts; it doubles after each.
    pub initial_backoff: Duration,
}

/// The OpenAI client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OpenAiError {
    /// The HTTP client could not be built.
    #[error("the OpenAI HTTP client could not be built")]
    Client(#[source] reqwest::Error),
    /// The API key holds characters an HTTP header cannot carry.
    #[error("OPENAI_API_KEY cannot be sent in an HTTP header")]
    InvalidKey,
}

/// Chat completions with retries: exponential backoff with jitter on connection errors,
/// timeouts, 408, 409, 429 and 5xx; `Retry-After` honoured when it fits in the budget; no retry
/// on other 4xx or on an exhausted quota.
#[derive(Debug, Clone)]
pub struct OpenAiChatModel {
    client: reqwest::Client,
    settings: OpenAiSettings,
    endpoint: String,
    /// `Bearer <key>`, marked sensitive so that it is never printed.
    authorization: header::HeaderValue,
    pause: Arc<dyn Pause>,
}

#[derive(Debug, Serialize)]
struct CompletionRequest<'a> {
    model: &'a str,
    messages: Vec<RequestMessage<'a>>,
    max_tokens: u32,
    temperature: f32,
}

#[derive(Debug, Serialize)]
struct RequestMessage<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Debug, Deserialize)]
struct CompletionResponse {
    choices: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: ResponseMessage,
}

#[derive(Debug, Deserialize)]
struct ResponseMessage {
    content: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorResponse {
    #[serde(default)]
    error: ErrorBody,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<String>,
}

/// What one attempt came to.
enum Attempt {
    Reply(String),
    /// Worth another try, after the server's `Retry-After` when it gave one.
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    GiveUp(ChatModelError),
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error()
}

/// `retry-after-ms` (OpenAI's own) or `Retry-After` in seconds.
fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    let read = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    let millis =
        read("retry-after-ms").or_else(|| read("retry-after").map(|secs| secs * 1000.0))?;
    (millis.is_finite() && millis >= 0.0).then(|| Duration::from_secs_f64(millis / 1000.0))
}

/// `base` scaled by a random factor in 0.75..=1.25, so that clients do not retry in step.
fn with_jitter(base: Duration) -> Duration {
    base.mul_f64(rand::rng().random_range(0.75..=1.25))
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl OpenAiChatModel {
    /// A client for `settings`, waiting between attempts on the tokio timer.
    ///
    /// # Errors
    /// [`OpenAiError`] when the HTTP client cannot be built.
    pub fn new(settings: OpenAiSettings) -> Result<Self, OpenAiError> {
        Self::with_pause(settings, Arc::new(TokioPause))
    }

    /// A client that waits between attempts with `pause`.
    ///
    /// # Errors
    /// [`OpenAiError`] when the HTTP client cannot be built.
    pub fn with_pause(
        settings: OpenAiSettings,
        pause: Arc<dyn Pause>,
    ) -> Result<Self, OpenAiError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("plant-texts/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.attempt_timeout)
            .build()
            .map_err(OpenAiError::Client)?;
        let endpoint = format!(
            "{}/chat/completions",
            settings.base_url.trim_end_matches('/')
        );
        let mut authorization =
            header::HeaderValue::try_from(format!("Bearer {}", settings.api_key.expose()))
                .map_err(|_| OpenAiError::InvalidKey)?;
        authorization.set_sensitive(true);
        Ok(Self {
            client,
            settings,
            endpoint,
            authorization,
            pause,
        })
    }

    fn body<'a>(&'a self, prompt: &'a ChatPrompt) -> CompletionRequest<'a> {
        let mut messages = Vec::with_capacity(prompt.history.len() + 2);
        messages.push(RequestMessage {
            role: "system",
            content: &prompt.system_prompt,
        });
        messages.extend(prompt.history.iter().map(|turn| RequestMessage {
            role: match turn.speaker {
                Speaker::Owner => "user",
                Speaker::Plant => "assistant",
            },
            content: &turn.text,
        }));
        messages.push(RequestMessage {
            role: "user",
            content: &prompt.message,
        });
        CompletionRequest {
            model: &self.settings.model,
            messages,
            max_tokens: self.settings.max_tokens,
            temperature: self.settings.temperature,
        }
    }

    async fn attempt(&self, body: &CompletionRequest<'_>, timeout: Duration) -> Attempt {
        let sent = self
            .client
            .post(&self.endpoint)
            .headers(crate::trace_context::outgoing_headers())
            .header(header::AUTHORIZATION, self.authorization.clone())
            .timeout(timeout)
            .json(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                // Connection refused or dropped, or the attempt timed out: all worth a retry.
                let kind = if error.is_timeout() {
                    "timed out"
                } else {
                    "connection failed"
                };
                return Attempt::Retry {
                    error: kind.to_owned(),
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        if status.is_success() {
            return match response.json::<CompletionResponse>().await {
                Ok(answer) => answer
                    .choices
                    .into_iter()
                    .next()
                    .and_then(|choice| choice.message.content)
                    .map_or_else(
                        || Attempt::GiveUp(ChatModelError::InvalidAnswer("no choices".to_owned())),
                        Attempt::Reply,
                    ),
                Err(error) if error.is_timeout() => Attempt::Retry {
                    error: "timed out reading the answer".to_owned(),
                    retry_after: None,
                },
                Err(error) => Attempt::GiveUp(ChatModelError::InvalidAnswer(error.to_string())),
            };
        }
        let retry_after = retry_after(response.headers());
        if status == StatusCode::TOO_MANY_REQUESTS {
            let body: ErrorResponse = response.json().await.unwrap_or_default();
            let quota = |value: &Option<String>| value.as_deref() == Some("insufficient_quota");
            if quota(&body.error.kind) || quota(&body.error.code) {
                return Attempt::GiveUp(ChatModelError::QuotaExhausted);
            }
        }
        if is_retryable(status) {
            Attempt::Retry {
                error: format!("status {}", status.as_u16()),
                retry_after,
            }
        } else {
            Attempt::GiveUp(ChatModelError::Refused {
                status: status.as_u16(),
            })
        }
    }
}

#[async_trait]
impl ChatModel for OpenAiChatModel {
    #[tracing::instrument(
        name = "openai.chat_completion",
        skip_all,
        fields(otel.kind = "client", model = %self.settings.model, attempts, duration_ms, outcome)
    )]
    async fn reply(&self, prompt: &ChatPrompt) -> Result<String, ChatModelError> {
        let started = Instant::now();
        let deadline = started + self.settings.budget;
        let body = self.body(prompt);
        let mut backoff = self.settings.initial_backoff;
        let mut attempts = 0;
        let mut last_error = String::from("no attempt fitted in the budget");
        let span = tracing::Span::current();
        let result = loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if attempts >= self.settings.max_attempts || remaining.is_zero() {
                break Err(ChatModelError::Unavailable {
                    attempts,
                    last_error,
                });
            }
            attempts += 1;
            let timeout = self.settings.attempt_timeout.min(remaining);
            let (error, retry_after) = match self.attempt(&body, timeout).await {
                Attempt::Reply(reply) => break Ok(reply),
                Attempt::GiveUp(error) => break Err(error),
                Attempt::Retry { error, retry_after } => (error, retry_after),
            };
            tracing::debug!(attempt = attempts, %error, "chat completion attempt failed");
            last_error = error;
            if attempts >= self.settings.max_attempts {
                continue;
            }
            let wait = retry_after.unwrap_or_else(|| with_jitter(backoff));
            backoff = backoff.saturating_mul(2);
            if Instant::now() + wait >= deadline {
                // Waiting would outlast the budget: give up now rather than late.
                last_error = format!("{last_error}; the next attempt would exceed the budget");
                break Err(ChatModelError::Unavailable {
                    attempts,
                    last_error,
                });
            }
            self.pause.pause(wait).await;
        };
        span.record("attempts", attempts);
        span.record("duration_ms", millis(started.elapsed()));
        span.record("outcome", if result.is_ok() { "reply" } else { "failed" });
        result
    }
}
