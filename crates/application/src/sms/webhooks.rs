//! Who may call the provider's webhooks: requests signed with our auth token, for our account.

use std::sync::Arc;

/// A webhook request as the provider signed it.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The full public URL the provider called, query included.
    pub url: &'a str,
    /// The form parameters, in any order.
    pub params: &'a [(String, String)],
    /// The signature header, if any.
    pub signature: Option<&'a str>,
}

/// Checks a provider's request signature.
pub trait SignatureVerifier: Send + Sync {
    /// Whether `signature` is the provider's signature of `url` and `params`, compared in
    /// constant time.
    fn is_valid(&self, url: &str, params: &[(String, String)], signature: &str) -> bool;
}

/// Why a webhook request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRefused {
    /// No provider is configured (demo mode): nothing can be verified.
    #[error("no SMS provider is configured")]
    NotConfigured,
    /// The signature header is missing.
    #[error("the request is not signed")]
    Unsigned,
    /// The signature does not match.
    #[error("the signature does not match")]
    BadSignature,
    /// The request is for another account, or names none.
    #[error("the request is for another account")]
    OtherAccount,
}

/// The webhook gate.
#[derive(Clone)]
pub struct WebhookGate {
    provider: Option<(Arc<dyn SignatureVerifier>, String)>,
}

impl std::fmt::Debug for WebhookGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookGate")
            .field("configured", &self.provider.is_some())
            .finish()
    }
}

impl WebhookGate {
    /// A gate for the provider account `account_sid`, checking signatures with `verifier`.
    #[must_use]
    pub fn new(verifier: Arc<dyn SignatureVerifier>, account_sid: String) -> Self {
        Self {
            provider: Some((verifier, account_sid)),
        }
    }

    /// Demo mode: every webhook request is refused.
    #[must_use]
    pub const fn closed() -> Self {
        Self { provider: None }
    }

    /// Lets `request` through when it is signed by the provider and names our account in its
    /// `AccountSid` parameter.
    ///
    /// # Errors
    /// [`WebhookRefused`] says why not.
    pub fn check(&self, request: &SignedRequest<'_>) -> Result<(), WebhookRefused> {
        let (verifier, account_sid) = self
            .provider
            .as_ref()
            .ok_or(WebhookRefused::NotConfigured)?;
        let signature = request.signature.ok_or(WebhookRefused::Unsigned)?;
        if !verifier.is_valid(request.url, request.params, signature) {
            return Err(WebhookRefused::BadSignature);
        }
        let ours = request
            .params
            .iter()
            .any(|(name, value)| name == "AccountSid" && value == account_sid);
        if ours {
            Ok(())
        } else {
            Err(WebhookRefused::OtherAccount)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accepts exactly one signature.
    struct OneSignature;

    impl SignatureVerifier for OneSignature {
        fn is_valid(&self, _url: &str, _params: &[(String, String)], signature: &str) -> bool {
            signature == "good"
        }
    }

    fn params(account: &str) -> Vec<(String, String)> {
        vec![("AccountSid".to_owned(), account.to_owned())]
    }

    fn request<'a>(
        params: &'a [(String, String)],
        signature: Option<&'a str>,
    ) -> SignedRequest<'a> {
        SignedRequest {
            url: "https://example.test/hook",
            params,
            signature,
        }
    }

    #[test]
    fn a_signed_request_for_our_account_passes() {
        let gate = WebhookGate::new(Arc::new(OneSignature), "AC1".to_owned());
        assert_eq!(gate.check(&request(&params("AC1"), Some("good"))), Ok(()));
    }

    #[test]
    fn unsigned_badly_signed_and_foreign_requests_are_refused() {
        let gate = WebhookGate::new(Arc::new(OneSignature), "AC1".to_owned());
        let ours = params("AC1");
        assert_eq!(
            gate.check(&request(&ours, None)),
            Err(WebhookRefused::Unsigned)
        );
        assert_eq!(
            gate.check(&request(&ours, Some("bad"))),
            Err(WebhookRefused::BadSignature)
        );
        assert_eq!(
            gate.check(&request(&params("AC2"), Some("good"))),
            Err(WebhookRefused::OtherAccount)
        );
        assert_eq!(
            gate.check(&request(&[], Some("good"))),
            Err(WebhookRefused::OtherAccount)
        );
    }

    #[test]
    fn without_a_provider_everything_is_refused() {
        assert_eq!(
            WebhookGate::closed().check(&request(&params("AC1"), Some("good"))),
            Err(WebhookRefused::NotConfigured)
        );
    }
}
