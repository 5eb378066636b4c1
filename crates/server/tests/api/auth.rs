//! Sign-up, login, refresh rotation and logout through the real app, on both databases.

use serde_json::json;

use crate::helpers::{Backend, PASSWORD, on_both_backends, spawn_app};

on_both_backends! {
    async fn registering_creates_a_member_and_answers_201_with_its_location(backend: Backend) {
        let app = spawn_app(backend).await;
        let response = app
            .post_json(
                "/api/v2/auth/register",
                &json!({
                    "tenant": "demo",
                    "email": "  Ada.Lovelace@Example.COM ",
                    "password": PASSWORD,
                    "full_name": "  Ada Lovelace ",
                    "phone": "+14155552671",
                }),
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.body);
        assert_eq!(response.header("location"), Some("/api/v2/me"));
        let user = response.json();
        assert_eq!(user["email"], "ada.lovelace@example.com");
        assert_eq!(user["full_name"], "Ada Lovelace");
        assert_eq!(user["phone"], "+14155552671");
        assert_eq!(user["role"], "member");
        assert_eq!(user["is_active"], true);
        assert_eq!(user["sms_opt_in"], false);
        assert_eq!(user["phone_verified"], false, "a number is unverified until a code confirms it");
        assert!(user.get("password_hash").is_none());
        let fields: Vec<&str> = user.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "created_at", "email", "full_name", "id", "is_active", "phone", "phone_verified", "role",
                "sms_opt_in", "tenant_id", "updated_at"
            ]
        );
    }

    async fn a_duplicate_email_in_the_same_tenant_is_409_whatever_its_case(backend: Backend) {
        let app = spawn_app(backend).await;
        assert_eq!(app.register("demo", "ada@example.com", PASSWORD).await.status, 201);
        let again = app.register("demo", "ADA@example.com", PASSWORD).await;
        assert_eq!(again.status, 409);
        assert_eq!(again.json()["code"], "ERR_USER_001");
    }

    async fn the_same_email_may_register_in_another_tenant(backend: Backend) {
        let app = spawn_app(backend).await;
        app.create_tenant("greenhouse", true).await;
        assert_eq!(app.register("demo", "ada@example.com", PASSWORD).await.status, 201);
        assert_eq!(app.register("greenhouse", "ada@example.com", PASSWORD).await.status, 201);
    }

    async fn a_phone_number_belongs_to_one_account_on_the_whole_platform(backend: Backend) {
        let app = spawn_app(backend).await;
        app.create_tenant("greenhouse", true).await;
        let body = |tenant: &str, email: &str| json!({
            "tenant": tenant, "email": email, "password": PASSWORD,
            "full_name": "Ada", "phone": "+14155552671",
        });
        assert_eq!(app.post_json("/api/v2/auth/register", &body("demo", "a@example.com")).await.status, 201);
        let taken = app.post_json("/api/v2/auth/register", &body("greenhouse", "b@example.com")).await;
        assert_eq!(taken.status, 409);
        assert_eq!(taken.json()["code"], "ERR_USER_002");
    }

    async fn registering_in_an_unknown_tenant_is_404_and_in_a_closed_one_403(backend: Backend) {
        let app = spawn_app(backend).await;
        let unknown = app.register("no-such-tenant", "ada@example.com", PASSWORD).await;
        assert_eq!(unknown.status, 404);
        assert_eq!(unknown.json()["code"], "ERR_TENANT_001");
        app.create_tenant("closed-club", false).await;
        let closed = app.register("closed-club", "ada@example.com", PASSWORD).await;
        assert_eq!(closed.status, 403);
        assert_eq!(closed.json()["code"], "ERR_TENANT_002");
    }

    async fn every_invalid_registration_field_is_listed_in_one_problem(backend: Backend) {
        let app = spawn_app(backend).await;
        let response = app
            .post_json(
                "/api/v2/auth/register",
                &json!({
                    "tenant": "Demo",
                    "email": "not-an-email",
                    "password": "short",
                    "full_name": "   ",
                    "phone": "+1 415 555 2671",
                }),
            )
            .await;
        assert_eq!(response.status, 422);
        assert_eq!(response.header("content-type"), Some("application/problem+json"));
        let problem = response.json();
        assert_eq!(problem["code"], "ERR_VALIDATION_001");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["tenant", "email", "password", "full_name", "phone"]);
    }

    async fn the_password_policy_is_applied_at_registration(backend: Backend) {
        let app = spawn_app(backend).await;
        for (password, message) in [
            ("too short", "at least 12"),
            ("qwerty123456", "too common"),
            ("my name is ADA-LOVELACE!", "email"),
            ("welcome to the DEMO garden", "organisation"),
        ] {
            let response = app.register("demo", "ada-lovelace@example.com", password).await;
            assert_eq!(response.status, 422, "{password}");
            let problem = response.json();
            assert_eq!(problem["errors"][0]["field"], "password");
            assert!(
                problem["errors"][0]["message"].as_str().unwrap().contains(message),
                "{password}: {problem}"
            );
        }
        let missing = app
            .post_json("/api/v2/auth/register", &json!({"tenant": "demo"}))
            .await;
        assert_eq!(missing.status, 422);
        assert_eq!(missing.json()["errors"].as_array().unwrap().len(), 3);
    }

    async fn login_answers_a_bearer_token_pair(backend: Backend) {
        let app = spawn_app(backend).await;
        app.register("demo", "ada@example.com", PASSWORD).await;
        let response = app.login("demo", " ADA@example.com", PASSWORD).await;
        assert_eq!(response.status, 200, "{}", response.body);
        assert_eq!(response.header("cache-control"), Some("no-store"));
        let tokens = response.json();
        assert_eq!(tokens["token_type"], "Bearer");
        assert_eq!(tokens["expires_in"], 900);
        let access = tokens["access_token"].as_str().unwrap();
        let me = app.get_as(access, "/api/v2/me").await;
        assert_eq!(me.status, 200);
        assert_eq!(me.json()["email"], "ada@example.com");
        assert_eq!(me.header("cache-control"), Some("no-store"));
    }

    async fn a_missing_login_field_is_a_validation_problem(backend: Backend) {
        let app = spawn_app(backend).await;
        let response = app
            .post_json("/api/v2/auth/login", &json!({"tenant": "demo", "email": "a@example.com"}))
            .await;
        assert_eq!(response.status, 422);
        assert_eq!(response.json()["errors"][0]["field"], "password");
    }

    async fn a_refresh_token_rotates_and_its_reuse_revokes_the_family(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let first = app.refresh(&user.refresh_token).await;
        assert_eq!(first.status, 200, "{}", first.body);
        let rotated = first.json()["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(rotated, user.refresh_token);

        // The old token again: reuse. Refused, and the token it was rotated into dies with it.
        let reuse = app.refresh(&user.refresh_token).await;
        assert_eq!(reuse.status, 401);
        assert_eq!(reuse.json()["code"], "ERR_AUTH_005");
        let after_reuse = app.refresh(&rotated).await;
        assert_eq!(after_reuse.status, 401);
    }

    async fn an_unknown_refresh_token_is_refused(backend: Backend) {
        let app = spawn_app(backend).await;
        let response = app.refresh("made-up").await;
        assert_eq!(response.status, 401);
        assert_eq!(response.header("www-authenticate"), Some("Bearer realm=\"plant-texts\""));
    }

    async fn logout_revokes_that_session_only(backend: Backend) {
        let app = spawn_app(backend).await;
        let phone = app.signed_up("demo", "ada@example.com").await;
        let laptop = app.login("demo", "ada@example.com", PASSWORD).await.json();
        let response = app
            .post_json_as(
                &phone.access_token,
                "/api/v2/auth/logout",
                &json!({"refresh_token": phone.refresh_token}),
            )
            .await;
        assert_eq!(response.status, 204);
        let phone_refresh = app.refresh(&phone.refresh_token).await;
        assert_eq!(phone_refresh.status, 401);
        let laptop_refresh = app.refresh(laptop["refresh_token"].as_str().unwrap()).await;
        assert_eq!(laptop_refresh.status, 200);
    }

    async fn logout_everywhere_ends_every_access_and_refresh_token(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let response = app
            .post_json_as(&user.access_token, "/api/v2/auth/logout-all", &json!({}))
            .await;
        assert_eq!(response.status, 204);
        let me = app.get_as(&user.access_token, "/api/v2/me").await;
        assert_eq!(me.status, 401);
        assert_eq!(me.json()["code"], "ERR_AUTH_001");
        let refresh = app.refresh(&user.refresh_token).await;
        assert_eq!(refresh.status, 401);
        // A login after the revocation works at once, even within the same second.
        let again = app.login("demo", "ada@example.com", PASSWORD).await.json();
        let me = app.get_as(again["access_token"].as_str().unwrap(), "/api/v2/me").await;
        assert_eq!(me.status, 200);
    }
}

async fn stored_password_hash(app: &crate::helpers::TestApp, email: &str) -> String {
    use migration::sea_orm::{ConnectionTrait, Statement};
    let db = crate::helpers::connect(&app.database.url).await;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            match db.get_database_backend() {
                migration::sea_orm::DatabaseBackend::Postgres => {
                    "SELECT password_hash FROM users WHERE email = $1"
                }
                _ => "SELECT password_hash FROM users WHERE email = ?",
            },
            [email.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<String>(0).unwrap()
}

on_both_backends! {
    async fn a_hash_made_with_older_parameters_is_replaced_at_the_next_login(backend: Backend) {
        use domain::identity::{Email, Password, TenantSlug};
        use application::identity::ports::PasswordHasher as _;
        use infrastructure::security::{Argon2Parameters, Argon2PasswordHasher, HashingLimits};
        use migration::sea_orm::{ConnectionTrait, Statement};

        let app = spawn_app(backend).await;
        app.register("demo", "ada@example.com", PASSWORD).await;
        let old = Argon2PasswordHasher::new(
            Argon2Parameters { memory_kib: 4096, iterations: 1, parallelism: 1 },
            HashingLimits::per_cpu(),
        )
            .unwrap()
            .hash(
                &Password::parse(
                    PASSWORD,
                    &Email::parse("ada@example.com").unwrap(),
                    &TenantSlug::parse("demo").unwrap(),
                )
                .unwrap(),
            )
            .await
            .unwrap();
        let db = crate::helpers::connect(&app.database.url).await;
        let sql = match db.get_database_backend() {
            migration::sea_orm::DatabaseBackend::Postgres => "UPDATE users SET password_hash = $1",
            _ => "UPDATE users SET password_hash = ?",
        };
        db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, [old.as_str().into()]))
            .await
            .unwrap();
        assert!(stored_password_hash(&app, "ada@example.com").await.contains("m=4096,t=1,p=1"));

        assert_eq!(app.login("demo", "ada@example.com", PASSWORD).await.status, 200);
        let rehashed = stored_password_hash(&app, "ada@example.com").await;
        assert!(rehashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{rehashed}");
        assert_eq!(app.login("demo", "ada@example.com", PASSWORD).await.status, 200);
    }
}

on_both_backends! {
    async fn a_session_ends_at_its_absolute_lifetime_however_often_it_was_rotated(backend: Backend) {
        use migration::sea_orm::{ConnectionTrait, Statement, Value};

        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let rotated = app.refresh(&user.refresh_token).await;
        assert_eq!(rotated.status, 200, "{}", rotated.body);
        let latest = rotated.json()["refresh_token"].as_str().unwrap().to_owned();
        let fresh = app.signed_up("demo", "grace@example.com").await;
        // The first session's login was 30 days and a minute ago; its rotations were recent.
        let db = crate::helpers::connect(&app.database.url).await;
        let long_ago = chrono::Utc::now() - chrono::TimeDelta::days(30) - chrono::TimeDelta::minutes(1);
        let sql = match backend {
            Backend::Sqlite => "UPDATE refresh_tokens SET created_at = ? WHERE user_id = ? AND replaced_by IS NOT NULL",
            Backend::Postgres => "UPDATE refresh_tokens SET created_at = $1 WHERE user_id = $2 AND replaced_by IS NOT NULL",
        };
        let user_id: uuid::Uuid = user.id.parse().unwrap();
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            [Value::from(long_ago), Value::from(user_id)],
        ))
        .await
        .unwrap();

        assert_eq!(app.refresh(&latest).await.status, 401, "past the absolute lifetime");
        assert_eq!(app.refresh(&fresh.refresh_token).await.status, 200, "a young session refreshes");
    }
}

on_both_backends! {
    async fn a_refresh_token_that_outlived_a_revocation_is_refused(backend: Backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_up("demo", "ada@example.com").await;
        let everywhere = app
            .send(|client, url| client.post(url).bearer_auth(&user.access_token), "/api/v2/auth/logout-all")
            .await;
        assert_eq!(everywhere.status, 204);
        // As if a rotation racing the revocation had stored a token after it.
        app.execute_sql("UPDATE refresh_tokens SET revoked_at = NULL, replaced_by = NULL", vec![]).await;

        assert_eq!(app.refresh(&user.refresh_token).await.status, 401);
        let after = app.login("demo", "ada@example.com", PASSWORD).await.json();
        let fresh = app.refresh(after["refresh_token"].as_str().unwrap()).await;
        assert_eq!(fresh.status, 200, "a session started after the revocation refreshes");
    }
}
