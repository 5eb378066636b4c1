//! The binary itself: a bad configuration stops it with status 78 before anything is bound, and
//! a schema it cannot run on stops it with status 1.

use std::process::{Command, Output};

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
