//! `plant-texts-loadtest`: the scenarios the old service was judged by, against a running
//! server, with the data seeded through the API. `cargo xtask loadtest` builds and starts the
//! server and runs this; docs/capacity-planning.md has the commands and the results.
//!
//! ```text
//! plant-texts-loadtest --url http://127.0.0.1:8080 [--pid PID] [--scenario all|signup|mixed|login-burst]
//!                      [--users 100] [--connections 500] [--duration 60] [--burst 256]
//!                      [--tenant demo] [--report loadtest-report.json]
//! ```
//!
//! The server must run with rate limiting off (RATE_LIMIT_ENABLED=false): the scenarios send
//! far more from one address than a client is allowed.

mod scenarios;
mod stats;

use std::{process::ExitCode, time::Duration};

use serde_json::{Map, Value, json};

/// What to run, from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server's base URL.
    pub url: String,
    /// The server's process id, to sample its resident memory.
    pub pid: Option<u32>,
    /// Which scenario (`all` runs them in order).
    pub scenario: String,
    /// Users signing up and adding plants in the signup scenario.
    pub users: usize,
    /// Concurrent connections of the mixed scenario.
    pub connections: usize,
    /// How long the mixed scenario runs.
    pub duration: Duration,
    /// Concurrent logins of the burst.
    pub burst: usize,
    /// The tenant users sign up in.
    pub tenant: String,
    /// Where the JSON report goes.
    pub report: String,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut options = Self {
            url: "http://127.0.0.1:8080".to_owned(),
            pid: None,
            scenario: "all".to_owned(),
            users: 100,
            connections: 500,
            duration: Duration::from_secs(60),
            burst: 256,
            tenant: "demo".to_owned(),
            report: "loadtest-report.json".to_owned(),
        };
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let number = || {
                value
                    .parse::<usize>()
                    .map_err(|_| format!("{flag} needs a whole number, got {value}"))
            };
            match flag.as_str() {
                "--url" => options.url = value.trim_end_matches('/').to_owned(),
                "--pid" => options.pid = Some(u32::try_from(number()?).map_err(|e| e.to_string())?),
                "--scenario" => options.scenario.clone_from(&value),
                "--users" => options.users = number()?.max(1),
                "--connections" => options.connections = number()?.max(1),
                "--duration" => {
                    options.duration =
                        Duration::from_secs(u64::try_from(number()?.max(1)).unwrap_or(60));
                }
                "--burst" => options.burst = number()?.max(1),
                "--tenant" => options.tenant.clone_from(&value),
                "--report" => options.report.clone_from(&value),
                other => return Err(format!("unknown option {other}")),
            }
        }
        if !["all", "signup", "mixed", "login-burst"].contains(&options.scenario.as_str()) {
            return Err(format!("unknown scenario {}", options.scenario));
        }
        Ok(options)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("loadtest: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&options).await {
        Ok(clean) => {
            if clean {
                ExitCode::SUCCESS
            } else {
                eprintln!("loadtest: some requests failed (see the errors column)");
                ExitCode::FAILURE
            }
        }
        Err(message) => {
            eprintln!("loadtest: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the chosen scenarios and writes the report; `Ok(false)` when a request failed.
async fn run(options: &Options) -> Result<bool, String> {
    let mut report = Map::new();
    report.insert("target".to_owned(), json!(options.url));
    report.insert(
        "idle_rss_mib".to_owned(),
        json!(options.pid.and_then(scenarios::resident_mib)),
    );
    let wanted = |name: &str| options.scenario == "all" || options.scenario == name;
    if wanted("signup") {
        let summary = scenarios::signup(options).await?;
        stats::print_table("signup: users register, log in and add plants", &summary);
        report.insert("signup".to_owned(), summary);
    }
    if wanted("mixed") {
        let summary = scenarios::mixed(options).await?;
        stats::print_table(
            &format!(
                "mixed: {} connections, {} s",
                options.connections,
                options.duration.as_secs()
            ),
            &summary,
        );
        report.insert("mixed".to_owned(), summary);
    }
    if wanted("login-burst") {
        let summary = scenarios::login_burst(options).await?;
        stats::print_table(&format!("login burst: {} at once", options.burst), &summary);
        report.insert("login_burst".to_owned(), summary);
    }
    let clean = report
        .values()
        .filter_map(|summary| summary["total"]["errors"].as_u64())
        .all(|errors| errors == 0);
    let report = Value::Object(report);
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&options.report, text)
        .map_err(|e| format!("cannot write {}: {e}", options.report))?;
    println!("\nreport written to {}", options.report);
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn options_default_to_the_scenarios_of_the_old_service() {
        let options = parse(&[]).unwrap();
        assert_eq!(options.scenario, "all");
        assert_eq!(options.users, 100);
        assert_eq!(options.connections, 500);
        assert_eq!(options.duration, Duration::from_secs(60));
    }

    #[test]
    fn options_are_read_and_checked() {
        let options = parse(&[
            "--url",
            "http://h:1/",
            "--connections",
            "64",
            "--scenario",
            "mixed",
        ])
        .unwrap();
        assert_eq!(options.url, "http://h:1");
        assert_eq!(options.connections, 64);
        assert!(parse(&["--scenario", "everything"]).is_err());
        assert!(parse(&["--users", "many"]).is_err());
        assert!(parse(&["--users"]).is_err());
        assert!(parse(&["--colour", "blue"]).is_err());
    }
}
