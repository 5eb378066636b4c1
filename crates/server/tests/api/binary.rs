//! The binary itself: a bad configuration stops it with status 78 before anything is bound, a
//! schema it cannot run on stops it with status 1, and SIGTERM stops it gracefully.

use std::{
    io::{BufRead as _, BufReader},
    process::{Command, Output, Stdio},
};

/// Runs the binary with `args` in exactly `env` (and PATH), to its end.
fn run_binary(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plant-texts"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .expect("the server binary runs")
}

fn run_server(env: &[(&str, &str)]) -> Output {
    run_binary(&[], env)
}

#[test]
fn a_bad_production_configuration_exits_78_listing_every_problem_without_secrets() {
    let output = run_server(&[
        ("APP_ENV", "production"),
        ("SECRET_KEY", "short-but-secret-value"),
        ("ADMIN_API_KEY", "tiny-admin-key"),
        ("PORT", "not-a-port"),
    ]);

    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in [
        "PORT: must be a number from 0 to 65535",
        "DATABASE_URL: is required in production",
        "SECRET_KEY: must be at least 32 characters",
        "ADMIN_API_KEY: every key must be at least 32 characters",
        "CORS_ORIGINS: is required in production",
        "ALLOWED_HOSTS: is required in production",
    ] {
        assert!(stderr.contains(line), "missing `{line}` in:\n{stderr}");
    }
    assert!(!stderr.contains("short-but-secret-value"));
    assert!(!stderr.contains("tiny-admin-key"));
    assert!(
        output.stdout.is_empty(),
        "nothing else happened before exiting"
    );
}

#[test]
fn pending_migrations_without_auto_migrate_stop_the_binary_listing_them() {
    let dir = std::env::temp_dir().join(format!(
        "plant-texts-exit-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let url = format!("sqlite://{}/db.sqlite?mode=rwc", dir.display());

    let output = run_server(&[
        ("APP_ENV", "test"),
        ("DATABASE_URL", &url),
        ("AUTO_MIGRATE", "false"),
        ("PORT", "0"),
        ("LOG_FORMAT", "json"),
    ]);
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "pending migrations: m20261122_000001_create_identity, m20261122_000002_create_catalog"
        ),
        "{stderr}"
    );
}

#[tokio::test]
async fn sigterm_stops_a_serving_binary_gracefully_with_status_0() {
    let server = ServedBinary::start(&[]);
    let live = reqwest::get(format!("http://127.0.0.1:{}/health/live", server.port))
        .await
        .expect("served");
    assert_eq!(live.status(), 200);

    server.terminate();
    let (status, lines) = server.wait();

    assert_eq!(status.code(), Some(0));
    let mut stopped_workers: Vec<&str> = lines
        .iter()
        .filter(|line| line["message"] == "worker stopped")
        .filter_map(|line| line["worker"].as_str())
        .collect();
    stopped_workers.sort_unstable();
    assert_eq!(stopped_workers, ["reminders", "retention", "sms_retries"]);
}

/// A served binary on a scratch SQLite database, and the port it listens on.
struct ServedBinary {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
    log_reader: std::thread::JoinHandle<Vec<serde_json::Value>>,
}

impl ServedBinary {
    fn start(env: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "plant-texts-served-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let url = format!("sqlite://{}/db.sqlite?mode=rwc", dir.display());
        let mut child = Command::new(env!("CARGO_BIN_EXE_plant-texts"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs([
                ("APP_ENV", "test"),
                ("DATABASE_URL", url.as_str()),
                ("PORT", "0"),
                ("LOG_FORMAT", "json"),
                ("RATE_LIMIT_ENABLED", "false"),
            ])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (port_sender, port_receiver) = std::sync::mpsc::channel();
        // Keeps draining, so that the server never writes into a closed pipe.
        let log_reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                if entry["message"] == "listening" {
                    let _ = port_sender.send(entry["port"].as_u64());
                }
                lines.push(entry);
            }
            lines
        });
        let port = port_receiver
            .recv_timeout(std::time::Duration::from_secs(60))
            .ok()
            .flatten()
            .and_then(|port| u16::try_from(port).ok())
            .expect("the server logs the port it listens on");
        Self {
            child,
            port,
            dir,
            log_reader,
        }
    }

    fn terminate(&self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(killed.success());
    }

    /// Waits for the exit; the status and every JSON line logged.
    fn wait(mut self) -> (std::process::ExitStatus, Vec<serde_json::Value>) {
        let status = self.child.wait().expect("the server exits");
        let _ = std::fs::remove_dir_all(&self.dir);
        (status, self.log_reader.join().expect("the log reader ends"))
    }
}

#[tokio::test]
async fn after_sigterm_readiness_answers_503_for_the_grace_period_before_the_port_closes() {
    const GRACE: std::time::Duration = std::time::Duration::from_secs(2);
    let server = ServedBinary::start(&[("SHUTDOWN_GRACE_SECS", "2")]);
    let ready = format!("http://127.0.0.1:{}/health/ready", server.port);
    // A new connection for every probe, as a load balancer's health check makes.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    assert_eq!(client.get(&ready).send().await.unwrap().status(), 200);

    server.terminate();
    let terminated = std::time::Instant::now();
    let mut statuses = Vec::new();
    let closed_after = loop {
        match client.get(&ready).send().await {
            Ok(response) => statuses.push(response.status().as_u16()),
            Err(_) => break terminated.elapsed(),
        }
        // Paces the probes; the server's grace is what the loop waits out.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let (status, _) = server.wait();

    assert_eq!(status.code(), Some(0));
    // The signal reaches the server asynchronously: a probe sent in the same instant may still
    // be answered 200, but once readiness has turned 503 it stays so until the port closes.
    let during_grace: Vec<u16> = statuses
        .iter()
        .copied()
        .skip_while(|status| *status == 200)
        .collect();
    assert!(
        !during_grace.is_empty(),
        "readiness answered 503 during the grace: {statuses:?}"
    );
    assert!(
        during_grace.iter().all(|status| *status == 503),
        "readiness turned 503 and stayed so: {statuses:?}"
    );
    assert!(
        closed_after >= GRACE,
        "the port closed {closed_after:?} after SIGTERM, before the {GRACE:?} grace"
    );
}

#[tokio::test]
async fn the_migrate_command_applies_the_schema_a_server_without_auto_migrate_then_runs_on() {
    let dir = std::env::temp_dir().join(format!(
        "plant-texts-migrate-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let url = format!("sqlite://{}/db.sqlite?mode=rwc", dir.display());
    let env = [
        ("APP_ENV", "test"),
        ("DATABASE_URL", url.as_str()),
        ("AUTO_MIGRATE", "false"),
        ("PORT", "0"),
        ("LOG_FORMAT", "json"),
    ];

    let migrate = run_binary(&["migrate"], &env);
    assert_eq!(
        migrate.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let again = run_binary(&["migrate"], &env);
    assert_eq!(
        again.status.code(),
        Some(0),
        "migrating twice changes nothing"
    );

    let server = ServedBinary::start(&[("DATABASE_URL", url.as_str()), ("AUTO_MIGRATE", "false")]);
    let live = reqwest::get(format!("http://127.0.0.1:{}/health/ready", server.port))
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    server.terminate();
    let (status, _) = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(status.code(), Some(0));
}

#[test]
fn an_unknown_command_is_refused_with_the_usage() {
    let output = run_binary(&["serve-please"], &[("APP_ENV", "test")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("usage: plant-texts [migrate | doctor]")
    );
}

#[test]
fn environment_values_are_read_as_raw_text() {
    // A secret that looks like a list or a number must stay the secret it is.
    let output = run_server(&[
        ("APP_ENV", "production"),
        ("SECRET_KEY", "[kZ8vQ2xN7pL4mR9tW1yB6cF3hJ5gD0sA]"),
        ("ADMIN_API_KEY", "12345678901234567890123456789012345"),
    ]);

    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("SECRET_KEY"), "{stderr}");
    assert!(!stderr.contains("ADMIN_API_KEY"), "{stderr}");
    assert!(
        stderr.contains("DATABASE_URL: is required in production"),
        "{stderr}"
    );
}

fn doctor(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = run_binary(&["doctor"], env);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// The doctor's verdict for one check.
fn verdict<'a>(table: &'a str, check: &str) -> &'a str {
    table
        .lines()
        .find(|line| line.split_whitespace().next() == Some(check))
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no {check} line in:\n{table}"))
}

#[test]
fn the_doctor_passes_a_sound_setup_and_fails_on_any_broken_dependency_without_printing_secrets() {
    const SECRET: &str = "doctor-secret-signing-key-0123456789abcdef";
    let dir = std::env::temp_dir().join(format!(
        "plant-texts-doctor-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let url = format!("sqlite://{}/db.sqlite?mode=rwc", dir.display());
    let base = [
        ("APP_ENV", "test"),
        ("DATABASE_URL", url.as_str()),
        ("SECRET_KEY", SECRET),
        ("AUTO_MIGRATE", "false"),
    ];

    let (code, table) = doctor(&base);
    assert_eq!(code, Some(1), "pending migrations fail:\n{table}");
    assert_eq!(verdict(&table, "database"), "up");
    assert_eq!(verdict(&table, "migrations"), "FAIL");

    assert!(run_binary(&["migrate"], &base).status.success());
    let (code, table) = doctor(&base);
    assert_eq!(code, Some(0), "{table}");
    for (check, expected) in [
        ("configuration", "ok"),
        ("migrations", "up"),
        ("redis", "disabled"),
        ("otlp", "disabled"),
        ("twilio", "demo"),
        ("openai", "templates"),
    ] {
        assert_eq!(verdict(&table, check), expected, "{table}");
    }

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let otlp = format!("http://127.0.0.1:{closed_port}");
    let redis = format!("redis://:redis-password-0123@127.0.0.1:{closed_port}/0");
    let (code, table) = doctor(&[
        base[0],
        base[1],
        base[2],
        base[3],
        ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.as_str()),
        ("REDIS_URL", redis.as_str()),
    ]);
    assert_eq!(code, Some(1), "{table}");
    assert_eq!(verdict(&table, "otlp"), "FAIL");
    assert_eq!(verdict(&table, "redis"), "FAIL");
    assert!(
        !table.contains(SECRET) && !table.contains("redis-password-0123"),
        "{table}"
    );

    let (code, table) = doctor(&[("APP_ENV", "production"), ("SECRET_KEY", "short-secret")]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, Some(1));
    assert_eq!(verdict(&table, "configuration"), "FAIL");
    assert!(table.contains("DATABASE_URL"), "{table}");
    assert!(!table.contains("short-secret"), "{table}");
}
