/// How many requests a key may make per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Requests per window.
    pub limit: u32,
    /// The window, in seconds.
    pub window_secs: u32,
}

impl Quota {
    /// The window in milliseconds.
    #[must_use]
    pub const fn window_ms(self) -> i64 {
        self.window_secs as i64 * 1000
    }

    /// Milliseconds between two requests once the burst is spent.
    #[must_use]
    pub const fn interval_ms(self) -> i64 {
        let limit = if self.limit == 0 { 1 } else { self.limit };
        self.window_ms() / limit as i64
    }
}

/// A named rate-limit policy of the API (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The name in headers and metrics.
    pub name: &'static str,
    /// Its quota.
    pub quota: Quota,
}

const fn policy(name: &'static str, limit: u32, window_secs: u32) -> Policy {
    Policy {
        name,
        quota: Quota { limit, window_secs },
    }
}

impl Policy {
    /// Every /api/v2 request: 1000 per hour.
    pub const GLOBAL: Self = policy("global", 1000, 3600);
    /// Every /api/v2 request: 100 per minute.
    pub const API: Self = policy("api", 100, 60);
    /// Login and registration per (IP, tenant, email): 5 per 15 minutes.
    pub const LOGIN: Self = policy("login", 5, 900);
    /// Login and registration per IP: 20 per 15 minutes.
    pub const LOGIN_IP: Self = policy("login_ip", 20, 900);
    /// Failed logins per account (tenant + email), from every address together: 10 per hour.
    /// It stops credential stuffing spread over many addresses (SPEC §5.3).
    pub const LOGIN_ACCOUNT: Self = policy("login_account", 10, 3600);
    /// Phone verification codes per account: 3 per hour, judged atomically (the exact rolling
    /// hour, per account and per number, is checked again by the use case).
    pub const PHONE_CODE: Self = policy("phone_code", 3, 3600);
    /// Chat messages: 30 per minute.
    pub const CHAT: Self = policy("chat", 30, 60);
    /// New plants: 10 per minute.
    pub const PLANTS_CREATE: Self = policy("plants_create", 10, 60);
    /// Twilio's webhooks: 100 per minute.
    pub const WEBHOOK: Self = policy("webhook", 100, 60);
    /// Health checks per IP: 10 per second.
    pub const HEALTH: Self = policy("health", 10, 1);

    /// Every policy, each once.
    pub const ALL: [Self; 10] = [
        Self::GLOBAL,
        Self::API,
        Self::LOGIN,
        Self::LOGIN_IP,
        Self::LOGIN_ACCOUNT,
        Self::PHONE_CODE,
        Self::CHAT,
        Self::PLANTS_CREATE,
        Self::WEBHOOK,
        Self::HEALTH,
    ];

    /// The header form, `"api";q=100;w=60`.
    #[must_use]
    pub fn header_value(&self) -> String {
        format!(
            "\"{}\";q={};w={}",
            self.name, self.quota.limit, self.quota.window_secs
        )
    }
}
