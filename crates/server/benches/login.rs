//! What a login costs with the production argon2id parameters (m=19456 KiB, t=2, p=1): the whole
//! use case over an in-memory SQLite database, for a right password, a wrong one and an unknown
//! email (which pays for a dummy verification so that it takes as long).
//!
//! Then bursts of 64 and 256 concurrent logins against the bounded hashing pool with its
//! production defaults (HASH_CONCURRENCY = CPUs, HASH_QUEUE = 64): how many were served and how
//! many refused (503), and the process's peak resident memory (VmHWM) after each burst.
//!
//! `cargo xtask bench` (or `cargo bench -p plant-texts-server --bench login`) prints the
//! distribution; under `cargo test` it runs each case once as a smoke test.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark fails loudly on broken set-up"
)]

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use application::{
    compose::compose,
    identity::{Credentials, Identity, Registration},
    metrics::Metrics,
};
use domain::{
    identity::{Email, FullName, Password, TenantSlug},
    secret::Secret,
};
use infrastructure::persistence::Database;
use migration::{Migrator, MigratorTrait, seed};
use plant_texts_server::{
    config::Settings,
    startup::{adapters, tunables},
};

const EMAIL: &str = "gardener@example.com";
const PASSWORD: &str = "a long benchmark passphrase";

async fn identity() -> Identity {
    let settings = Settings::from_values(HashMap::from([
        ("APP_ENV".to_owned(), "test".to_owned()),
        ("DATABASE_URL".to_owned(), "sqlite::memory:".to_owned()),
        (
            "SECRET_KEY".to_owned(),
            "benchmark-signing-key-0123456789abcdef".to_owned(),
        ),
    ]))
    .expect("benchmark settings are valid");
    let database = Database::connect(&settings.database).await.unwrap();
    Migrator::up(database.connection(), None).await.unwrap();
    seed::run(database.connection()).await.unwrap();
    let adapters = adapters(&database, None, &settings, Metrics::default()).unwrap();
    let identity = compose(adapters, tunables(&settings)).identity;
    let email = Email::parse(EMAIL).unwrap();
    let tenant = TenantSlug::parse("demo").unwrap();
    identity
        .register(Registration {
            password: Password::parse(PASSWORD, &email, &tenant).unwrap(),
            tenant,
            email,
            full_name: FullName::parse("Bench").unwrap(),
            phone: None,
        })
        .await
        .unwrap();
    identity
}

fn credentials(email: &str, password: &str) -> Credentials {
    Credentials {
        tenant: "demo".to_owned(),
        email: email.to_owned(),
        password: Secret::new(password),
    }
}

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() - 1) as f64 * q).round() as usize;
        samples[index].as_secs_f64() * 1000.0
    };
    println!(
        "{name:<22} n={:<4} median {:>7.2} ms   p95 {:>7.2} ms   min {:>7.2} ms   max {:>7.2} ms",
        samples.len(),
        at(0.5),
        at(0.95),
        at(0.0),
        at(1.0)
    );
}

/// The process's peak resident set size so far, in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// `concurrency` logins at once (wrong password: each costs one full verification).
async fn burst(identity: &Identity, concurrency: usize) {
    let started = Instant::now();
    let outcomes = futures_util::future::join_all((0..concurrency).map(|_| {
        let identity = identity.clone();
        async move {
            identity
                .log_in(credentials(EMAIL, "not the password at all"))
                .await
        }
    }))
    .await;
    let refused = outcomes
        .iter()
        .filter(|outcome| {
            matches!(
                outcome,
                Err(application::identity::LoginError::Failed(
                    application::failure::Failure::HashingBusy
                ))
            )
        })
        .count();
    println!(
        "burst of {concurrency:<4} logins   served {:>4}   refused 503 {:>4}   took {:>7.1} ms   peak RSS {:>7.1} MiB",
        concurrency - refused,
        refused,
        started.elapsed().as_secs_f64() * 1000.0,
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}

fn main() {
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    let iterations = if benchmarking { 50 } else { 1 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let identity = identity().await;
        let cases = [
            ("login (right password)", EMAIL, PASSWORD, true),
            (
                "login (wrong password)",
                EMAIL,
                "not the password at all",
                false,
            ),
            (
                "login (unknown email)",
                "nobody@example.com",
                PASSWORD,
                false,
            ),
        ];
        for (name, email, password, succeeds) in cases {
            let mut samples = Vec::with_capacity(iterations);
            for _ in 0..iterations {
                let started = Instant::now();
                let outcome = identity.log_in(credentials(email, password)).await;
                samples.push(started.elapsed());
                assert_eq!(outcome.is_ok(), succeeds, "{name}");
            }
            if benchmarking {
                summary(name, samples);
            }
        }
        if benchmarking {
            println!(
                "peak RSS before the bursts {:>7.1} MiB",
                peak_rss_mib().unwrap_or(f64::NAN)
            );
            for concurrency in [64, 256] {
                burst(&identity, concurrency).await;
            }
        }
    });
}
