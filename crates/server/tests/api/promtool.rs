//! Prometheus' own checker: the scraped text and the shipped alert rules must satisfy it.
//! `cargo xtask test` installs promtool when it is missing; where it cannot be installed, the
//! checks are skipped with a printed reason.

use std::{
    io::Write as _,
    path::PathBuf,
    process::{Command, Stdio},
};

/// promtool, or `None` with the reason printed.
fn promtool() -> Option<Command> {
    let program = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".to_owned());
    match Command::new(&program).arg("--version").output() {
        Ok(output) if output.status.success() => Some(Command::new(program)),
        _ => {
            eprintln!(
                "SKIPPED: promtool is not installed (cargo xtask test installs it with apt-get as root)"
            );
            None
        }
    }
}

fn observability_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/observability")
}

/// `promtool check metrics` on `text`: it parses, and follows Prometheus' naming rules.
pub fn check_metrics(text: &str) {
    let Some(mut promtool) = promtool() else {
        return;
    };
    let mut child = promtool
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(text.as_bytes())
        .expect("promtool reads the metrics");
    let output = child.wait_with_output().expect("promtool ends");
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_alert_rules_pass_promtool_and_their_unit_tests() {
    for args in [
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts.test.yml"],
    ] {
        let Some(mut promtool) = promtool() else {
            return;
        };
        let output = promtool
            .args(args)
            .current_dir(observability_dir())
            .output()
            .expect("promtool runs");
        assert!(
            output.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn the_prometheus_config_passes_promtool() {
    let Some(mut promtool) = promtool() else {
        return;
    };
    let output = promtool
        .args(["check", "config", "--syntax-only", "prometheus.yml"])
        .current_dir(observability_dir())
        .output()
        .expect("promtool runs");
    assert!(
        output.status.success(),
        "promtool check config: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
