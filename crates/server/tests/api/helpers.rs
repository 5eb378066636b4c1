//! The test harness: `spawn_app` starts the real application on a random port with a database of
//! its own — a fresh in-memory SQLite, or a PostgreSQL database cloned from a migrated template —
//! so tests run in parallel without sharing state.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use application::system::Clock;
use chrono::{DateTime, TimeDelta, Utc};

use migration::{
    Migrator, MigratorTrait,
    sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement},
    seed,
};
use plant_texts_server::{config::Settings, startup::Application};
use serde_json::Value;
use tokio::sync::OnceCell;

/// The database engine a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one test per backend from an `async fn name(backend: Backend)`:
/// `name::sqlite` and `name::postgres`.
macro_rules! on_both_backends {
    ($(async fn $name:ident($backend:ident: Backend) $body:block)*) => {$(
        mod $name {
            use super::*;

            async fn run($backend: Backend) $body

            #[tokio::test]
            async fn sqlite() {
                run($crate::helpers::Backend::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                run($crate::helpers::Backend::Postgres).await;
            }
        }
    )*};
}
pub(crate) use on_both_backends;

/// The PostgreSQL server of the test run.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!("TEST_DATABASE_URL is not set: run the suite with `cargo xtask test`, which starts PostgreSQL and Redis")
    })
}

/// The Redis server of the test run.
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("TEST_REDIS_URL is not set: run the suite with `cargo xtask test`, which starts PostgreSQL and Redis")
    })
}

/// `base` with its database name replaced by `name`.
fn with_database(base: &str, name: &str) -> String {
    let without_query = base.split('?').next().unwrap_or(base);
    let (server, _) = without_query
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL has a database name");
    format!("{server}/{name}")
}

async fn admin_connection() -> DatabaseConnection {
    let mut options = ConnectOptions::new(postgres_admin_url());
    // One connection, so that a session-level advisory lock is released by the session that took it.
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options)
        .await
        .expect("PostgreSQL of the test run is reachable")
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// The migrated and seeded template database, created once per run (and once across test
/// processes, under an advisory lock). Its name depends on the migrations, so a stale template
/// from an older run of a long-lived server is never reused.
async fn template_database() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let names: Vec<String> = Migrator::migrations()
                .iter()
                .map(|m| m.name().to_owned())
                .collect();
            let fingerprint = names
                .join(",")
                .bytes()
                .fold(0_u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
            let name = format!("plant_texts_template_{fingerprint:x}");
            let admin = admin_connection().await;
            execute(&admin, "SELECT pg_advisory_lock(727274)").await;
            let exists = admin
                .query_one_raw(Statement::from_string(
                    admin.get_database_backend(),
                    format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
                ))
                .await
                .expect("pg_database is readable")
                .is_some();
            if !exists {
                execute(&admin, &format!("CREATE DATABASE {name}")).await;
                let template = connect(&with_database(&postgres_admin_url(), &name)).await;
                Migrator::up(&template, None)
                    .await
                    .expect("template migrates");
                seed::run(&template).await.expect("template seeds");
                template.close().await.expect("template connection closes");
            }
            execute(&admin, "SELECT pg_advisory_unlock(727274)").await;
            admin.close().await.expect("admin connection closes");
            name
        })
        .await
}

/// Opens a sea-orm connection (for tests that look at the database directly).
pub async fn connect(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false);
    Database::connect(options)
        .await
        .expect("test database is reachable")
}

/// The first column of the one row `sql` selects, as a count.
pub async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query runs")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a count")
}

/// A database of one test's own; a PostgreSQL one is dropped when the test ends.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL the application connects with.
    pub url: String,
    /// The PostgreSQL database name, for tests that manipulate it.
    pub postgres_name: Option<String>,
    /// Keeps a shared in-memory SQLite database alive for as long as the test holds it.
    _sqlite_keeper: Option<DatabaseConnection>,
}

impl TestDatabase {
    /// A migrated and seeded database.
    pub async fn migrated(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let database = Self::in_memory_sqlite().await;
                let db = database._sqlite_keeper.as_ref().expect("SQLite keeper");
                Migrator::up(db, None).await.expect("SQLite migrates");
                seed::run(db).await.expect("SQLite seeds");
                database
            }
            Backend::Postgres => {
                let template = template_database().await;
                Self::postgres(&format!("TEMPLATE {template}")).await
            }
        }
    }

    /// A database without any table.
    pub async fn empty(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::in_memory_sqlite().await,
            Backend::Postgres => Self::postgres("").await,
        }
    }

    /// A named in-memory database with a shared cache: every connection of this process that
    /// opens the same name sees the same database, which lives while one connection stays open.
    async fn in_memory_sqlite() -> Self {
        let url = format!(
            "sqlite:file:plant_texts_{}?mode=memory&cache=shared",
            uuid::Uuid::now_v7().simple()
        );
        let keeper = connect(&url).await;
        Self {
            url,
            postgres_name: None,
            _sqlite_keeper: Some(keeper),
        }
    }

    async fn postgres(clause: &str) -> Self {
        let name = format!("plant_texts_test_{}", uuid::Uuid::now_v7().simple());
        let admin = admin_connection().await;
        // Clones of one template may collide while another clone is starting; retry a little.
        let mut attempts = 0;
        loop {
            let sql = format!("CREATE DATABASE {name} {clause}");
            match admin
                .execute_raw(Statement::from_string(
                    admin.get_database_backend(),
                    sql.clone(),
                ))
                .await
            {
                Ok(_) => break,
                Err(error)
                    if attempts < 20
                        && error.to_string().contains("being accessed by other users") =>
                {
                    attempts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(error) => panic!("{sql}: {error}"),
            }
        }
        admin.close().await.expect("admin connection closes");
        Self {
            url: with_database(&postgres_admin_url(), &name),
            postgres_name: Some(name),
            _sqlite_keeper: None,
        }
    }

    /// Another handle on the same database, for a second application instance; dropping it
    /// leaves the database alone.
    pub fn shared(&self) -> Self {
        Self {
            url: self.url.clone(),
            postgres_name: None,
            _sqlite_keeper: None,
        }
    }

    /// Runs SQL on the PostgreSQL server as the administrator (not inside this database).
    pub async fn admin_sql(sql: &str) {
        let admin = admin_connection().await;
        execute(&admin, sql).await;
        admin.close().await.expect("admin connection closes");
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs outside async code; a short-lived runtime on a thread of its own does the work.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(TestDatabase::admin_sql(&format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )));
        })
        .join();
    }
}

/// The JWT signing key of test applications, so that tests can forge tokens.
pub const SECRET_KEY: &str = "test-suite-signing-key-0123456789abcdef";
/// The platform admin key of test applications.
pub const ADMIN_KEY: &str = "test-suite-admin-key-0123456789abcdef-0123";
/// A password that passes the policy for every test account.
pub const PASSWORD: &str = "sunflower meadow at dawn";

/// The settings of a test application over `database`, with `overrides` applied.
pub fn test_settings(database: &TestDatabase, overrides: &[(&str, &str)]) -> Settings {
    let mut values: HashMap<String, String> = HashMap::from([
        ("APP_ENV".to_owned(), "test".to_owned()),
        ("PORT".to_owned(), "0".to_owned()),
        ("DATABASE_URL".to_owned(), database.url.clone()),
        ("DB_POOL_SIZE".to_owned(), "5".to_owned()),
        ("DB_MIN_CONNECTIONS".to_owned(), "1".to_owned()),
        ("DB_ACQUIRE_TIMEOUT_SECS".to_owned(), "1".to_owned()),
        ("SECRET_KEY".to_owned(), SECRET_KEY.to_owned()),
        ("ADMIN_API_KEY".to_owned(), ADMIN_KEY.to_owned()),
        // Tests make many requests from one address; the rate-limit tests switch it back on.
        ("RATE_LIMIT_ENABLED".to_owned(), "false".to_owned()),
    ]);
    for (key, value) in overrides {
        values.insert((*key).to_owned(), (*value).to_owned());
    }
    Settings::from_values(values).expect("test settings are valid")
}

/// A running application and a client for it.
#[derive(Debug)]
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub database: TestDatabase,
}

/// Starts the application on a migrated database of its own.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Starts the application with configuration overrides.
pub async fn spawn_app_with(backend: Backend, overrides: &[(&str, &str)]) -> TestApp {
    let database = TestDatabase::migrated(backend).await;
    spawn_app_on(database, overrides).await
}

/// Starts the application on a given database.
pub async fn spawn_app_on(database: TestDatabase, overrides: &[(&str, &str)]) -> TestApp {
    let settings = test_settings(&database, overrides);
    let application = Application::build(&settings)
        .await
        .expect("application starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    // The SMS and retention workers are driven by the tests themselves (SmsChannel), on clocks
    // of their own: this instance must not take their rows.
    tokio::spawn(application.serve_until_stopped(std::future::pending()));
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client builds"),
        database,
    }
}

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    /// Sends a request built by `build` from the client and a URL.
    pub async fn send(
        &self,
        build: impl FnOnce(&reqwest::Client, String) -> reqwest::RequestBuilder,
        path: &str,
    ) -> TestResponse {
        let response = build(&self.client, format!("{}{path}", self.address))
            .send()
            .await
            .expect("request is answered");
        TestResponse {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.expect("body is readable"),
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(|client, url| client.get(url), path).await
    }

    /// GET with a bearer token.
    pub async fn get_as(&self, token: &str, path: &str) -> TestResponse {
        self.send(|client, url| client.get(url).bearer_auth(token), path)
            .await
    }

    /// POST a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> TestResponse {
        self.send(|client, url| client.post(url).json(body), path)
            .await
    }

    /// POST a JSON body with a bearer token.
    pub async fn post_json_as(&self, token: &str, path: &str, body: &Value) -> TestResponse {
        self.send(
            |client, url| client.post(url).bearer_auth(token).json(body),
            path,
        )
        .await
    }

    /// PATCH a JSON body with a bearer token.
    pub async fn patch_json_as(&self, token: &str, path: &str, body: &Value) -> TestResponse {
        self.send(
            |client, url| client.patch(url).bearer_auth(token).json(body),
            path,
        )
        .await
    }

    /// DELETE with a JSON body and a bearer token.
    pub async fn delete_json_as(&self, token: &str, path: &str, body: &Value) -> TestResponse {
        self.send(
            |client, url| client.delete(url).bearer_auth(token).json(body),
            path,
        )
        .await
    }

    /// A call to the admin API with `key` (none: no header).
    pub async fn admin(
        &self,
        method: reqwest::Method,
        key: Option<&str>,
        path: &str,
        body: Option<&Value>,
    ) -> TestResponse {
        self.send(
            |client, url| {
                let mut request = client.request(method, url);
                if let Some(key) = key {
                    request = request.header("X-Admin-API-Key", key);
                }
                if let Some(body) = body {
                    request = request.json(body);
                }
                request
            },
            path,
        )
        .await
    }

    /// PATCH /api/v2/admin/feature-flags with `flags`.
    pub async fn set_feature_flags(&self, flags: &Value) -> TestResponse {
        self.admin(
            reqwest::Method::PATCH,
            Some(ADMIN_KEY),
            "/api/v2/admin/feature-flags",
            Some(flags),
        )
        .await
    }

    /// Creates a tenant through the admin API.
    pub async fn create_tenant(&self, slug: &str, signup_open: bool) -> Value {
        let response = self
            .admin(
                reqwest::Method::POST,
                Some(ADMIN_KEY),
                "/api/v2/admin/tenants",
                Some(&serde_json::json!({"slug": slug, "name": slug, "signup_open": signup_open})),
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.body);
        response.json()
    }

    /// POST /api/v2/auth/register
    pub async fn register(&self, tenant: &str, email: &str, password: &str) -> TestResponse {
        self.post_json(
            "/api/v2/auth/register",
            &serde_json::json!({
                "tenant": tenant,
                "email": email,
                "password": password,
                "full_name": "Test Gardener",
            }),
        )
        .await
    }

    /// POST /api/v2/auth/refresh
    pub async fn refresh(&self, refresh_token: &str) -> TestResponse {
        self.post_json(
            "/api/v2/auth/refresh",
            &serde_json::json!({"refresh_token": refresh_token}),
        )
        .await
    }

    /// POST /api/v2/auth/login
    pub async fn login(&self, tenant: &str, email: &str, password: &str) -> TestResponse {
        self.post_json(
            "/api/v2/auth/login",
            &serde_json::json!({"tenant": tenant, "email": email, "password": password}),
        )
        .await
    }

    /// Registers `email` in `tenant` with [`PASSWORD`] and logs in.
    pub async fn signed_up(&self, tenant: &str, email: &str) -> TestUser {
        let registered = self.register(tenant, email, PASSWORD).await;
        assert_eq!(registered.status, 201, "{}", registered.body);
        let login = self.login(tenant, email, PASSWORD).await;
        assert_eq!(login.status, 200, "{}", login.body);
        let tokens = login.json();
        TestUser {
            id: registered.json()["id"].as_str().unwrap().to_owned(),
            access_token: tokens["access_token"].as_str().unwrap().to_owned(),
            refresh_token: tokens["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// GET /health
    pub async fn get_health(&self) -> TestResponse {
        self.get("/health").await
    }

    /// GET /health/live
    pub async fn get_liveness(&self) -> TestResponse {
        self.get("/health/live").await
    }

    /// GET /health/ready
    pub async fn get_readiness(&self) -> TestResponse {
        self.get("/health/ready").await
    }

    /// GET /api/v2/openapi.json
    pub async fn get_openapi(&self) -> TestResponse {
        self.get("/api/v2/openapi.json").await
    }
}

impl TestApp {
    /// Runs one statement on the app's database, `?` placeholders written as `$n` on PostgreSQL.
    pub async fn execute_sql(&self, sql: &str, values: Vec<migration::sea_orm::Value>) {
        if let Err(error) = self.try_execute_sql(sql, values).await {
            panic!("{sql}: {error}");
        }
    }

    /// Runs one statement like [`Self::execute_sql`], answering the database's refusal.
    pub async fn try_execute_sql(
        &self,
        sql: &str,
        values: Vec<migration::sea_orm::Value>,
    ) -> Result<u64, String> {
        let db = connect(&self.database.url).await;
        let sql = match db.get_database_backend() {
            migration::sea_orm::DbBackend::Postgres => {
                let mut numbered = String::new();
                for (n, part) in sql.split('?').enumerate() {
                    if n > 0 {
                        numbered.push_str(&format!("${n}"));
                    }
                    numbered.push_str(part);
                }
                numbered
            }
            _ => sql.to_owned(),
        };
        let result = db
            .execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                &sql,
                values,
            ))
            .await
            .map(|done| done.rows_affected())
            .map_err(|error| error.to_string());
        db.close().await.expect("connection closes");
        result
    }

    /// Marks the account's phone verified in the database, standing in for the code round trip
    /// that the phone-verification tests go through.
    pub async fn verify_phone_directly(&self, user_id: &str) {
        let id: uuid::Uuid = user_id.parse().expect("a user id");
        self.execute_sql(
            "UPDATE users SET phone_verified = true WHERE id = ?",
            vec![id.into()],
        )
        .await;
    }

    /// The id of the catalog species whose common name is `common_name`.
    pub async fn catalog_id(&self, common_name: &str) -> String {
        let response = self
            .get(&format!("/api/v2/catalog?q={common_name}&limit=100"))
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        response.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["common_name"] == common_name)
            .unwrap_or_else(|| panic!("{common_name} is in the catalog"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Adds a plant of `common_name` called `nickname` for `user`.
    pub async fn add_plant(&self, user: &TestUser, common_name: &str, nickname: &str) -> Value {
        let catalog_plant_id = self.catalog_id(common_name).await;
        let response = self
            .post_json_as(
                &user.access_token,
                "/api/v2/plants",
                &serde_json::json!({"catalog_plant_id": catalog_plant_id, "nickname": nickname}),
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.body);
        response.json()
    }

    /// POST /api/v2/plants/{id}/chat
    pub async fn chat(&self, user: &TestUser, plant_id: &str, message: &str) -> TestResponse {
        self.post_json_as(
            &user.access_token,
            &format!("/api/v2/plants/{plant_id}/chat"),
            &serde_json::json!({"message": message}),
        )
        .await
    }
}

/// A clock the test moves.
#[derive(Debug)]
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(Utc::now())))
    }

    pub fn advance(&self, by: TimeDelta) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// A database handle of its own on `url` (a pool of `pool_size`) that counts the statements it
/// sends, with account standings held for `account_standing_ttl`: for tests of how many round
/// trips an operation costs.
pub async fn counted_database(
    url: &str,
    pool_size: u32,
    account_standing_ttl: std::time::Duration,
) -> (
    infrastructure::persistence::Database,
    Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::{sync::atomic::Ordering, time::Duration};

    let statements = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&statements);
    let observed = infrastructure::persistence::Database::connect(
        &infrastructure::persistence::DatabaseSettings {
            url: domain::secret::Secret::new(url),
            pool_size,
            min_connections: 1,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            max_lifetime: Duration::from_secs(60),
            statement_timeout: Duration::from_secs(5),
            slow_statement_threshold: Duration::from_secs(5),
            account_standing_ttl,
        },
    )
    .await
    .unwrap()
    .observing_statements(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    (observed, statements)
}

/// Waits until `condition` holds; fails after ten seconds (a change reaches an instance through
/// the change feed within moments).
pub async fn wait_until(condition: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "the condition never held"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
