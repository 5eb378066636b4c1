//! `cargo xtask test` and `cargo xtask ci`.

use std::process::Command;

use crate::{TaskResult, cargo, run, services};

/// Runs the whole suite (or, given arguments, `cargo test` with them). Tests that need PostgreSQL or Redis read TEST_DATABASE_URL and
/// TEST_REDIS_URL; when those are unset, throwaway servers are started here and stopped after.
pub(crate) fn test(extra_args: &[String]) -> TaskResult {
    let mut command = cargo();
    command.args(["test", "--no-fail-fast"]);
    if extra_args.is_empty() {
        command.arg("--workspace");
    }
    command.args(extra_args);
    with_test_services(&mut command, run)
}

/// What CI runs: formatting, lints, the suite, and line coverage of domain, application and
/// http (gated at 80 % when cargo-llvm-cov is installed).
pub(crate) fn ci() -> TaskResult {
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    let has_llvm_cov = cargo()
        .args(["llvm-cov", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if has_llvm_cov {
        let mut command = cargo();
        command.args([
            "llvm-cov",
            "--workspace",
            "--ignore-filename-regex",
            "(infrastructure|server|migration|xtask)/",
            "--fail-under-lines",
            "80",
        ]);
        with_test_services(&mut command, run)
    } else {
        eprintln!(
            "xtask: cargo-llvm-cov (with llvm-tools) is not installed: running the suite without coverage"
        );
        test(&[])
    }
}

fn with_test_services(
    command: &mut Command,
    then: impl FnOnce(&mut Command) -> TaskResult,
) -> TaskResult {
    // The services live until the end of this function, then their Drop stops them.
    let postgres = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => {
            eprintln!("xtask: using PostgreSQL from TEST_DATABASE_URL");
            command.env("TEST_DATABASE_URL", url);
            None
        }
        Err(_) => {
            let service = services::start_postgres()?;
            command.env("TEST_DATABASE_URL", &service.url);
            Some(service)
        }
    };
    let redis = match std::env::var("TEST_REDIS_URL") {
        Ok(url) => {
            eprintln!("xtask: using Redis from TEST_REDIS_URL");
            command.env("TEST_REDIS_URL", url);
            None
        }
        Err(_) => {
            let service = services::start_redis()?;
            command.env("TEST_REDIS_URL", &service.url);
            Some(service)
        }
    };
    let outcome = then(command);
    drop(redis);
    drop(postgres);
    outcome
}
