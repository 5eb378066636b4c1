//! The documentation page in a real browser: headless Chromium (driven by playwright-core) opens
//! /docs, finds every tag of the API rendered, and runs one "Try it out" request. `cargo xtask
//! test` installs Chromium and playwright-core when they are missing; where they cannot be, the
//! test is skipped with a printed reason.

use std::{path::PathBuf, process::Command};

use serde_json::Value;

use crate::helpers::{Backend, spawn_app};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Node's module path holding playwright-core, or `None` with the reason printed.
fn playwright_modules() -> Option<PathBuf> {
    let modules = std::env::var_os("E2E_NODE_MODULES").map_or_else(
        || workspace().join("target/e2e/node_modules"),
        PathBuf::from,
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !node || !modules.join("playwright-core").is_dir() || !PathBuf::from(&chromium).exists() {
        eprintln!(
            "SKIPPED: the browser test needs node, {chromium} and playwright-core in {} \
             (cargo xtask test installs them as root)",
            modules.display()
        );
        return None;
    }
    Some(modules)
}

#[tokio::test]
async fn the_docs_page_renders_every_tag_and_runs_a_try_it_out_request() {
    let Some(modules) = playwright_modules() else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let document = app.get_openapi().await.json();
    let mut expected: Vec<String> = document["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| tag["name"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();

    let script = workspace().join("e2e/docs-page.cjs");
    let address = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(address)
            .env("NODE_PATH", modules)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "the browser run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|error| panic!("{error}: {stdout}"));

    let mut rendered: Vec<String> = report["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| tag.as_str().unwrap().to_owned())
        .collect();
    rendered.sort();
    assert_eq!(rendered, expected, "every tag of the document is rendered");
    assert_eq!(report["status"], "200", "Try it out on GET /health/live");
    assert_eq!(
        report["failures"],
        Value::Array(Vec::new()),
        "no script error on the page"
    );
}
