use std::time::Duration;

use application::identity::ports::{
    AccessClaims, AccessToken, NewRefreshToken, TokenRejected, TokenService,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use domain::{
    identity::{TenantId, UserId},
    secret::Secret,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::hex;

/// Clock skew tolerated on `exp` and `iat`, in seconds.
const LEEWAY_SECS: u64 = 5;

/// What the token service needs from the configuration.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// The HS256 key.
    pub secret: Secret,
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// Lifetime of access tokens.
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens.
    pub refresh_ttl: Duration,
    /// A refresh family's absolute lifetime after its login.
    pub session_lifetime: Duration,
}

/// The claims of an access token on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    tid: Uuid,
    role: String,
    iat: i64,
    exp: i64,
    jti: Uuid,
    iss: String,
    aud: String,
    /// The user's token version at issue; see `User::accepts_access_token`.
    ver: i64,
}

/// HS256 access tokens (algorithm pinned: `none` and every other algorithm are refused) and
/// opaque 256-bit refresh tokens stored as SHA-256 hashes.
pub struct JwtTokenService {
    settings: JwtSettings,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtTokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtTokenService")
            .field("issuer", &self.settings.issuer)
            .field("audience", &self.settings.audience)
            .finish_non_exhaustive()
    }
}

impl JwtTokenService {
    /// A token service with `settings`.
    #[must_use]
    pub fn new(settings: JwtSettings) -> Self {
        let key = settings.secret.expose().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECS;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            settings,
        }
    }
}

fn rejected(error: impl std::fmt::Display) -> TokenRejected {
    TokenRejected(error.to_string())
}

impl TokenService for JwtTokenService {
    fn issue_access(
        &self,
        claims: &AccessClaims,
        now: DateTime<Utc>,
    ) -> Result<AccessToken, TokenRejected> {
        let ttl = self.settings.access_ttl.as_secs();
        let wire = Claims {
            sub: claims.user_id.as_uuid(),
            tid: claims.tenant_id.as_uuid(),
            role: claims.role.as_str().to_owned(),
            iat: now.timestamp(),
            exp: now.timestamp() + i64::try_from(ttl).map_err(rejected)?,
            jti: Uuid::now_v7(),
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            ver: claims.token_version,
        };
        let token =
            encode(&Header::new(Algorithm::HS256), &wire, &self.encoding).map_err(rejected)?;
        Ok(AccessToken {
            token: Secret::new(token),
            expires_in_secs: ttl,
        })
    }

    fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenRejected> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(rejected)?;
        let claims = data.claims;
        Ok(AccessClaims {
            user_id: UserId::from_uuid(claims.sub),
            tenant_id: TenantId::from_uuid(claims.tid),
            role: claims.role.parse().map_err(rejected)?,
            token_version: claims.ver,
        })
    }

    fn new_refresh_token(&self) -> NewRefreshToken {
        let mut bytes = [0_u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        NewRefreshToken {
            token_hash: self.hash_refresh_token(&token),
            token: Secret::new(token),
        }
    }

    fn hash_refresh_token(&self, token: &str) -> String {
        // The token carries 256 random bits, so a fast hash is enough: there is nothing to guess.
        hex::encode(&Sha256::digest(token.as_bytes()))
    }

    fn refresh_ttl(&self) -> Duration {
        self.settings.refresh_ttl
    }

    fn session_lifetime(&self) -> Duration {
        self.settings.session_lifetime
    }
}

#[cfg(test)]
mod tests {
    use domain::identity::Role;

    use super::*;

    fn service(audience: &str) -> JwtTokenService {
        JwtTokenService::new(JwtSettings {
            secret: Secret::new("a-test-signing-key-of-at-least-32-characters"),
            issuer: "plant-texts".into(),
            audience: audience.into(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(3600),
            session_lifetime: Duration::from_secs(7200),
        })
    }

    fn claims() -> AccessClaims {
        AccessClaims {
            user_id: UserId::from_uuid(Uuid::now_v7()),
            tenant_id: TenantId::from_uuid(Uuid::now_v7()),
            role: Role::Admin,
            token_version: 4,
        }
    }

    #[test]
    fn an_issued_token_verifies_to_its_claims() {
        let tokens = service("api");
        let claims = claims();
        let token = tokens.issue_access(&claims, Utc::now()).unwrap();
        assert_eq!(token.expires_in_secs, 900);
        assert_eq!(tokens.verify_access(token.token.expose()).unwrap(), claims);
    }

    #[test]
    fn a_token_for_another_audience_is_refused() {
        let token = service("other")
            .issue_access(&claims(), Utc::now())
            .unwrap();
        assert!(service("api").verify_access(token.token.expose()).is_err());
    }

    #[test]
    fn an_expired_token_is_refused_beyond_the_leeway() {
        let tokens = service("api");
        let long_ago = Utc::now() - chrono::Duration::seconds(900 + 60);
        let token = tokens.issue_access(&claims(), long_ago).unwrap();
        assert!(tokens.verify_access(token.token.expose()).is_err());
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let tokens = service("api");
        let token = tokens.issue_access(&claims(), Utc::now()).unwrap();
        let payload = token.token.expose().split('.').nth(1).unwrap().to_owned();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(
            tokens
                .verify_access(&format!("{header}.{payload}."))
                .is_err()
        );
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_as_their_hash() {
        let tokens = service("api");
        let first = tokens.new_refresh_token();
        let second = tokens.new_refresh_token();
        assert_ne!(first.token.expose(), second.token.expose());
        assert_eq!(first.token.expose().len(), 43);
        assert_eq!(
            first.token_hash,
            tokens.hash_refresh_token(first.token.expose())
        );
        assert_ne!(first.token_hash, first.token.expose());
    }
}
