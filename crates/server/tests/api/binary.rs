//! The binary itself: a bad configuration stops it with status 78 before anything is bound, a
//! schema it cannot run on stops it with status 1, and SIGTERM stops it gracefully.

use std::{
    io::{BufRead as _, BufReader},
    process::{Command, Output, Stdio},
};

fn run_server(env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plant-texts"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the server binary runs")
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
    let dir = std::env::temp_dir().join(format!(
        "plant-texts-term-{}",
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
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");

    // The JSON log line `listening` carries the port the kernel chose; the rest of the output
    // keeps being drained so that the server never writes into a closed pipe.
    let stdout = child.stdout.take().expect("stdout is piped");
    let (port_sender, port_receiver) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut stopped_workers = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if entry["message"] == "listening" {
                let _ = port_sender.send(entry["port"].as_u64());
            }
            if entry["message"] == "worker stopped" {
                stopped_workers.push(entry["worker"].as_str().unwrap_or_default().to_owned());
            }
        }
        stopped_workers
    });
    let port = port_receiver
        .recv_timeout(std::time::Duration::from_secs(60))
        .ok()
        .flatten()
        .expect("the server logs the port it listens on");
    let live = reqwest::get(format!("http://127.0.0.1:{port}/health/live"))
        .await
        .expect("served");
    assert_eq!(live.status(), 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("the server exits");
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(status.code(), Some(0));
    let mut stopped_workers = reader.join().expect("the log reader ends with the server");
    stopped_workers.sort();
    assert_eq!(stopped_workers, ["reminders", "retention", "sms_retries"]);
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
