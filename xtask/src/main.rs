//! `cargo xtask <command>`: the project's automation, in Rust so that it runs wherever cargo does.
//!
//! ```text
//! cargo xtask dev                     run the server in development (SQLite, no other service)
//! cargo xtask db migrate              apply pending migrations to DATABASE_URL
//! cargo xtask db rollback [N]         revert the last N migrations (default 1)
//! cargo xtask db status               list applied and pending migrations
//! cargo xtask db fresh                drop every table, then migrate
//! cargo xtask db reset                revert every migration, then migrate and seed
//! cargo xtask db seed                 insert missing reference data (idempotent)
//! cargo xtask db seed --synthetic      add a reproducible synthetic data set (100 users, 1,000
//!                                      gardens, 10,000 plantings and events by default; options
//!                                      --users --gardens --plantings --events --seed)
//! cargo xtask db sql                  print the SQL of pending migrations without applying it
//! cargo xtask db backup --out FILE    back up DATABASE_URL (SQLite: VACUUM INTO; PostgreSQL:
//!                                      deploy/scripts/backup-db.sh)
//! cargo xtask db restore --from FILE [--yes]  check FILE, then replace DATABASE_URL with it
//! cargo xtask doctor                  configuration and connectivity (database, migrations, Redis,
//!                                      OTLP, Twilio/OpenAI mode) as a table; non-zero on a failure
//! cargo xtask openapi                 write the served OpenAPI document to docs/openapi.json
//! cargo xtask test [ARGS]             the whole suite on SQLite, PostgreSQL and Redis
//! cargo xtask bench [login|rule_engine]  benchmarks: login cost with production argon2
//!                                      parameters, the garden rule engine (default: both)
//! cargo xtask loadtest [OPTIONS]     release server on a throwaway PostgreSQL, then the load
//!                                      test (signup, 500-connection mix, login burst) with a
//!                                      JSON report; options as crates/loadtest takes them
//! cargo xtask ci                      fmt check, clippy -D warnings, tests, coverage
//! ```
#![forbid(unsafe_code)]

mod db;
mod loadtest;
mod services;
mod test;

use std::process::{Command, ExitCode};

/// The criterion benchmarks, by name: (package, bench target).
const BENCHES: [(&str, &str); 2] = [
    ("plant-texts-server", "login"),
    ("plant-texts-domain", "rule_engine"),
];

/// `cargo xtask bench [name]`: one benchmark, or every one.
fn bench(only: Option<&str>) -> TaskResult {
    let chosen: Vec<_> = BENCHES
        .iter()
        .filter(|(_, name)| only.is_none_or(|only| only == *name))
        .collect();
    if chosen.is_empty() {
        return Err(format!("no benchmark named {}", only.unwrap_or_default()).into());
    }
    for (package, name) in chosen {
        run(cargo().args(["bench", "--package", package, "--bench", name]))?;
    }
    Ok(())
}

/// `cargo xtask openapi`: docs/openapi.json becomes the document the API serves (a test fails
/// while the two differ).
fn write_openapi() -> TaskResult {
    let output = cargo()
        .args([
            "run",
            "--quiet",
            "--package",
            "plant-texts-http",
            "--example",
            "openapi",
        ])
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err("the openapi example failed".into());
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    std::fs::write(&path, output.stdout)?;
    println!("wrote docs/openapi.json");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("dev") => run(cargo().args(["run", "--package", "plant-texts-server"])),
        Some("db") => db::main(&args[1..]),
        Some("test") => test::test(&args[1..]),
        Some("ci") => test::ci(),
        Some("bench") => bench(args.get(1).map(String::as_str)),
        Some("loadtest") => loadtest::loadtest(&args[1..]),
        Some("openapi") => write_openapi(),
        // The server's own configuration and adapters do the checking: one truth for both.
        Some("doctor") => run(cargo().args([
            "run",
            "--quiet",
            "--package",
            "plant-texts-server",
            "--",
            "doctor",
        ])),
        _ => {
            eprintln!(
                "usage: cargo xtask <dev | db <migrate|rollback [N]|status|fresh|reset|seed|sql|backup|restore> | test [cargo test args] | bench | loadtest [options] | openapi | doctor | ci>"
            );
            Err("unknown command".into())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The error type of every task: a message for the terminal.
pub(crate) type TaskResult = Result<(), Box<dyn std::error::Error>>;

/// `cargo`, as the one that runs this task.
pub(crate) fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

/// Runs a command to completion; a non-zero status is an error.
pub(crate) fn run(command: &mut Command) -> TaskResult {
    let status = command.status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed with {status}").into())
    }
}
