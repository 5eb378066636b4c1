//! Tokens that must not open anything, tenants that must not see each other, and logins that
//! must not reveal whether an account exists.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, SECRET_KEY, TestApp, on_both_backends, spawn_app};

/// The claims of a real token of `user`, readable (the signature is not checked here).
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(claims: &Value, key: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

async fn status_with(app: &TestApp, token: &str) -> u16 {
    let response = app.get_as(token, "/api/v2/me").await;
    if response.status == 401 {
        assert_eq!(response.json()["code"], "ERR_AUTH_001");
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer realm=\"plant-texts\", error=\"invalid_token\"")
        );
    }
    response.status
}

on_both_backends! {
    async fn a_genuine_token_opens_the_account(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let claims = claims_of(&user.access_token);
        for claim in ["sub", "tid", "role", "iat", "exp", "jti", "iss", "aud"] {
            assert!(claims.get(claim).is_some(), "{claim}");
        }
        // Re-signing the same claims with the real key is what the server does: accepted.
        assert_eq!(status_with(&app, &sign(&claims, SECRET_KEY)).await, 200);
    }

    async fn forged_expired_wrong_audience_and_unsigned_tokens_are_refused(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let claims = claims_of(&user.access_token);

        let forged = sign(&claims, "someone-elses-signing-key-0123456789abcdef");
        assert_eq!(status_with(&app, &forged).await, 401);

        let mut expired = claims.clone();
        expired["iat"] = json!(chrono::Utc::now().timestamp() - 3600);
        expired["exp"] = json!(chrono::Utc::now().timestamp() - 600);
        assert_eq!(status_with(&app, &sign(&expired, SECRET_KEY)).await, 401);

        let mut other_audience = claims.clone();
        other_audience["aud"] = json!("another-service");
        assert_eq!(status_with(&app, &sign(&other_audience, SECRET_KEY)).await, 401);

        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert_eq!(status_with(&app, &format!("{header}.{payload}.")).await, 401);

        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(SECRET_KEY.as_bytes()),
        )
        .unwrap();
        assert_eq!(status_with(&app, &hs512).await, 401);

        assert_eq!(status_with(&app, "not-a-jwt").await, 401);
        let missing = app.get("/api/v2/me").await;
        assert_eq!(missing.status, 401);
        assert_eq!(missing.header("www-authenticate"), Some("Bearer realm=\"plant-texts\""));
    }

    async fn a_token_naming_another_tenant_is_refused(backend: Backend) {
        let app = spawn_app(backend).await;
        let greenhouse = app.create_tenant("greenhouse", true).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let mut claims = claims_of(&user.access_token);
        claims["tid"] = greenhouse["id"].clone();
        assert_eq!(status_with(&app, &sign(&claims, SECRET_KEY)).await, 401);
    }

    async fn a_user_of_another_tenant_cannot_read_or_change_anything_of_the_first(backend: Backend) {
        let app = spawn_app(backend).await;
        app.create_tenant("greenhouse", true).await;
        let alice = app.signed_up("demo", "alice@example.com").await;
        let bob = app.signed_up("greenhouse", "bob@example.com").await;

        // Bob's token with Alice's id as subject: not a token the server made, refused.
        let mut claims = claims_of(&bob.access_token);
        claims["sub"] = json!(alice.id);
        assert_eq!(status_with(&app, &sign(&claims, SECRET_KEY)).await, 401);

        // Bob logging out with Alice's refresh token changes nothing for Alice.
        let logout = app
            .post_json_as(&bob.access_token, "/api/v2/auth/logout", &json!({"refresh_token": alice.refresh_token}))
            .await;
        assert_eq!(logout.status, 204);
        let alice_refresh = app.refresh(&alice.refresh_token).await;
        assert_eq!(alice_refresh.status, 200);

        // Bob's own views show only Bob.
        let me = app.get_as(&bob.access_token, "/api/v2/me").await.json();
        assert_eq!(me["id"], bob.id.as_str());
        let export = app.get_as(&bob.access_token, "/api/v2/me/export").await;
        assert!(!export.body.contains(&alice.id));
        assert!(!export.body.contains("alice@example.com"));
    }

    async fn unknown_email_unknown_tenant_and_wrong_password_get_byte_identical_answers(backend: Backend) {
        let app = spawn_app(backend).await;
        app.register("demo", "ada@example.com", PASSWORD).await;
        let attempt = |tenant: &'static str, email: &'static str, password: &'static str| {
            let app = &app;
            async move {
                app.send(
                    |client, url| {
                        client
                            .post(url)
                            .header("X-Request-ID", "login-probe")
                            .json(&json!({"tenant": tenant, "email": email, "password": password}))
                    },
                    "/api/v2/auth/login",
                )
                .await
            }
        };
        let wrong_password = attempt("demo", "ada@example.com", "not the password!").await;
        let unknown_email = attempt("demo", "nobody@example.com", "not the password!").await;
        let unknown_tenant = attempt("nowhere", "ada@example.com", "not the password!").await;
        assert_eq!(wrong_password.status, 401);
        assert_eq!(wrong_password.json()["code"], "ERR_AUTH_002");
        for other in [&unknown_email, &unknown_tenant] {
            assert_eq!(other.status, wrong_password.status);
            assert_eq!(other.body, wrong_password.body);
            assert_eq!(other.header("www-authenticate"), wrong_password.header("www-authenticate"));
        }
    }
}
