//! The account export streams (SPEC §6.1): exporting an account with 10,000 long messages grows
//! the server's memory by less than 20 MB. A test binary of its own, so that the process's
//! resident memory is this test's alone.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "set-up code of the tests fails the test loudly"
)]

#[path = "api/helpers.rs"]
#[expect(
    dead_code,
    unused_imports,
    unused_macros,
    reason = "the shared harness serves many tests; this binary needs a few of its helpers"
)]
mod helpers;

use std::io::Write as _;

use helpers::{Backend, spawn_app};

/// How many messages the account holds.
const MESSAGES: usize = 10_000;
/// The most the export may add to the server's resident memory.
const MAX_GROWTH_BYTES: u64 = 20 * 1024 * 1024;

/// A `Vm...:` line of /proc/self/status, in bytes.
fn memory(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    let kib: u64 = line
        .trim_start_matches(field)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn exporting_an_account_with_10_000_messages_grows_memory_by_less_than_20_mb() {
    let app = spawn_app(Backend::Postgres).await;
    let user = app.signed_up("demo", "ada@example.com").await;
    let me = app.get_as(&user.access_token, "/api/v2/me").await.json();
    let plant = app.add_plant(&user, "Snake Plant", "Fern").await;
    let tenant = uuid::Uuid::parse_str(me["tenant_id"].as_str().unwrap()).unwrap();
    let plant = uuid::Uuid::parse_str(plant["id"].as_str().unwrap()).unwrap();
    for batch in 0..MESSAGES / 100 {
        let rows = vec!["(?, ?, ?, 'inbound', 'web', ?, NULL, ?)"; 100].join(", ");
        let mut values: Vec<migration::sea_orm::Value> = Vec::new();
        for n in 0..100 {
            values.push(uuid::Uuid::now_v7().into());
            values.push(tenant.into());
            values.push(plant.into());
            values.push(format!("message {batch}-{n} {}", "x".repeat(1000)).into());
            values.push(chrono::Utc::now().into());
        }
        app.execute_sql(
            &format!("INSERT INTO messages (id, tenant_id, user_plant_id, direction, channel, body, source, created_at) VALUES {rows}"),
            values,
        )
        .await;
    }
    let path =
        std::env::temp_dir().join(format!("plant-texts-export-{}.json", uuid::Uuid::now_v7()));
    let mut file = std::fs::File::create(&path).unwrap();

    // The high-water mark starts again from what the process holds now.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = memory("VmRSS:");
    let mut response = reqwest::Client::new()
        .get(format!("{}/api/v2/me/export", app.address))
        .bearer_auth(&user.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut written = 0;
    while let Some(chunk) = response.chunk().await.unwrap() {
        written += chunk.len();
        file.write_all(&chunk).unwrap();
    }
    let growth = memory("VmHWM:").saturating_sub(before);

    assert!(
        written > 10_000_000,
        "the export holds the messages ({written} bytes)"
    );
    assert!(
        growth < MAX_GROWTH_BYTES,
        "the export grew memory by {} MiB",
        growth / 1024 / 1024
    );
    file.flush().unwrap();
    let export: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
        .expect("the export is one JSON document");
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        export["records"]["messages"].as_array().unwrap().len(),
        MESSAGES
    );
    assert_eq!(export["user"]["id"], user.id.as_str());
}
