use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use crate::{
    catalog::RenderedAnswers,
    client_ip::TrustedProxies,
    ops::metrics::{HttpMetrics, Observability},
    trace_context::TraceSampling,
};
use application::{
    admin::Administration,
    catalog::Catalog,
    chat::Conversations,
    compose::UseCases,
    gardens::Gardens,
    idempotency::Idempotency,
    identity::Identity,
    ops::CheckHealth,
    plants::Plants,
    ratelimit::RateLimiter,
    sms::{InboundTexts, PhoneVerification, SmsOutbox, WebhookGate},
};

/// Settings the HTTP layer needs, parsed from the configuration by the server.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The release, reported by `/health` and the OpenAPI document.
    pub version: &'static str,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Whether a 500 may carry the internal error in its `detail` (development only).
    pub expose_internal_errors: bool,
    /// The public origin (and prefix) Twilio calls, which its signatures cover.
    pub public_base_url: Option<String>,
    /// Longest a request may take before it is answered 503.
    pub request_timeout: std::time::Duration,
    /// Host names served, enforced in staging and production; `None` accepts any host.
    pub allowed_hosts: Option<Vec<String>>,
    /// Whether responses carry `Strict-Transport-Security` (staging and production).
    pub hsts: bool,
    /// Origins allowed by CORS (`*`, development only, allows any).
    pub cors_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Which requests' traces are exported.
    pub trace_sampling: TraceSampling,
}

/// The use cases behind Twilio's webhooks.
#[derive(Debug, Clone)]
pub struct SmsWebhooks {
    /// Who may call them.
    pub gate: WebhookGate,
    /// Texts from owners.
    pub inbound: InboundTexts,
    /// Delivery reports.
    pub outbox: SmsOutbox,
}

/// Whether the instance is shutting down. Readiness answers 503 from the moment shutdown begins
/// so that load balancers stop sending new requests while in-flight ones finish.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    draining: Arc<AtomicBool>,
}

impl Lifecycle {
    /// Marks the instance as shutting down.
    pub fn begin_shutdown(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown has begun.
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

/// Everything the handlers share: use cases and settings.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// Deep health check over every dependency.
    pub health: CheckHealth,
    /// Accounts, sessions and the caller's profile.
    pub identity: Identity,
    /// Platform administration.
    pub admin: Administration,
    /// The public catalog and personalities.
    pub catalog: Catalog,
    /// The catalog's rendered public answers, for the current revision.
    pub rendered_answers: Arc<RenderedAnswers>,
    /// The caller's plants.
    pub plants: Plants,
    /// The caller's gardens.
    pub gardens: Gardens,
    /// Conversations with plants.
    pub conversations: Conversations,
    /// Twilio's webhooks.
    pub sms: SmsWebhooks,
    /// Verifying the caller's phone number.
    pub phone_verification: PhoneVerification,
    /// Replays of create requests.
    pub idempotency: Idempotency,
    /// The rate limiter; `None` when RATE_LIMIT_ENABLED is false.
    pub rate_limiter: Option<RateLimiter>,
    /// Shutdown state for readiness.
    pub lifecycle: Lifecycle,
    /// What `/metrics` reports.
    pub observability: Observability,
    /// HTTP settings.
    pub settings: HttpSettings,
}

/// Who may read `/metrics` and what it reports about the build.
#[derive(Debug, Clone)]
pub struct MetricsAccess {
    /// The bearer token `/metrics` asks for; `None` leaves it open.
    pub token: Option<domain::secret::Secret>,
    /// The commit the binary was built from, for `build_info`.
    pub commit: &'static str,
}

impl ApiState {
    /// The handlers' state over the composed `use_cases`, not shutting down.
    #[must_use]
    pub fn new(use_cases: UseCases, settings: HttpSettings, metrics_access: MetricsAccess) -> Self {
        Self {
            health: use_cases.health,
            identity: use_cases.identity,
            admin: use_cases.admin,
            catalog: use_cases.catalog,
            rendered_answers: Arc::default(),
            plants: use_cases.plants,
            gardens: use_cases.gardens,
            conversations: use_cases.conversations,
            sms: SmsWebhooks {
                gate: use_cases.webhook_gate,
                inbound: use_cases.inbound_texts,
                outbox: use_cases.outbox,
            },
            phone_verification: use_cases.phone_verification,
            idempotency: use_cases.idempotency,
            rate_limiter: use_cases.rate_limiter,
            lifecycle: Lifecycle::default(),
            observability: Observability {
                metrics: use_cases.metrics,
                http: HttpMetrics::default(),
                pools: use_cases.pools,
                flags: use_cases.flags,
                token: metrics_access.token,
                commit: metrics_access.commit,
            },
            settings,
        }
    }
}
