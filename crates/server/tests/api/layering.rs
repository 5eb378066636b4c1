//! Dependencies point inward only. Checked on the manifests of the workspace: the dependencies
//! a crate declares, followed through the workspace crates it depends on.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

/// The workspace packages with the names of their normal (non-dev, non-build) dependencies.
fn workspace_dependencies() -> HashMap<String, Vec<String>> {
    let output =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|package| {
            let deps = package["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|dep| dep["kind"].is_null())
                .map(|dep| dep["name"].as_str().expect("name").to_owned())
                .collect();
            (package["name"].as_str().expect("name").to_owned(), deps)
        })
        .collect()
}

/// Everything `root` depends on, directly or through other workspace crates.
fn reachable(root: &str) -> BTreeSet<String> {
    let graph = workspace_dependencies();
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(package) = stack.pop() {
        for dep in graph.get(&package).into_iter().flatten() {
            if seen.insert(dep.clone()) && graph.contains_key(dep) {
                stack.push(dep.clone());
            }
        }
    }
    seen
}

fn assert_excludes(root: &str, forbidden: &[&str]) {
    let deps = reachable(root);
    assert!(
        !deps.is_empty() || root == "plant-texts-domain",
        "{root} has dependencies"
    );
    let found: Vec<_> = forbidden.iter().filter(|f| deps.contains(**f)).collect();
    assert!(found.is_empty(), "{root} must not depend on {found:?}");
}

#[test]
fn the_domain_depends_on_nothing_async_web_or_orm() {
    assert_excludes(
        "plant-texts-domain",
        &[
            "tokio",
            "futures-util",
            "async-trait",
            "actix-web",
            "sea-orm",
            "sqlx",
            "reqwest",
            "plant-texts-application",
        ],
    );
}

#[test]
fn the_application_knows_no_adapter_or_framework() {
    assert_excludes(
        "plant-texts-application",
        &[
            "actix-web",
            "sea-orm",
            "sqlx",
            "reqwest",
            "deadpool-redis",
            "plant-texts-infrastructure",
            "plant-texts-http",
        ],
    );
}

#[test]
fn http_never_depends_on_infrastructure() {
    let deps = reachable("plant-texts-http");
    assert!(deps.contains("plant-texts-application") && deps.contains("actix-web"));
    assert_excludes(
        "plant-texts-http",
        &[
            "plant-texts-infrastructure",
            "plant-texts-migration",
            "sea-orm",
            "sea-orm-migration",
            "deadpool-redis",
            "reqwest",
        ],
    );
}

#[test]
fn infrastructure_never_depends_on_http() {
    assert_excludes(
        "plant-texts-infrastructure",
        &["plant-texts-http", "actix-web"],
    );
}

/// The non-test Rust sources of the workspace, with their paths relative to its root.
fn production_sources() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("the source folder reads") {
            let path = entry.expect("an entry").path();
            let relative = path.strip_prefix(root).expect("under the root");
            let name = relative.to_string_lossy().replace('\\', "/");
            if path.is_dir() {
                // Tests, benchmarks and the fakes may build what they like.
                if !["tests", "benches", "testing", "target"]
                    .iter()
                    .any(|skip| name.ends_with(skip))
                {
                    walk(&path, root, out);
                }
            } else if name.ends_with(".rs") {
                let text = std::fs::read_to_string(&path).expect("a source reads");
                // Unit tests sit at the end of a file, after `#[cfg(test)]`.
                let code = text
                    .split("#[cfg(test)]")
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                out.push((name, code));
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().expect("the workspace root");
    let mut sources = Vec::new();
    walk(&root.join("crates"), &root, &mut sources);
    walk(&root.join("migration"), &root, &mut sources);
    sources
}

#[test]
fn no_source_copies_through_the_database_pool() {
    // The pool takes a PostgreSQL connection back without a ping (vendor/README.md), and sqlx's
    // COPY does not count the answers it is owed: an abandoned COPY would leave them unread.
    let copying: Vec<String> = production_sources()
        .into_iter()
        .filter(|(_, code)| {
            let code = code.to_ascii_lowercase();
            code.contains("copy_in") || code.contains("copy_out") || code.contains("from stdin")
        })
        .map(|(name, _)| name)
        .collect();
    assert!(copying.is_empty(), "{copying:?}");
}

#[test]
fn transactions_are_opened_in_one_place_that_a_cancelled_request_cannot_interrupt() {
    // sqlx-postgres counts a transaction as open only once its BEGIN is answered: a request
    // cancelled in between would leave the connection inside it (persistence/transaction.rs).
    let openers: Vec<String> = production_sources()
        .into_iter()
        .filter(|(name, code)| {
            // sea-orm's every way in: `begin`, `begin_with_config`, `begin_with_options`,
            // the `transaction` closures, and the trait called by its path.
            name.starts_with("crates/infrastructure/")
                && [
                    ".begin(",
                    ".begin_with_",
                    ".transaction(",
                    ".transaction_with_",
                    "TransactionTrait::",
                ]
                .iter()
                .any(|opener| code.contains(opener))
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        openers,
        ["crates/infrastructure/src/persistence/transaction.rs"]
    );
}

#[test]
fn the_system_clock_is_built_in_one_place_outside_tests() {
    let builders: Vec<String> = production_sources()
        .into_iter()
        .filter(|(_, code)| code.contains("SystemClock)"))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(builders, ["crates/server/src/startup.rs"]);
}

#[test]
fn only_the_composition_root_builds_use_cases() {
    let builders: Vec<String> = production_sources()
        .into_iter()
        .filter(|(_, code)| {
            [
                "Identity::new(",
                "Administration::new(",
                "Plants::new(",
                "Conversations::new(",
                "Gardens::new(",
                "SmsOutbox::new(",
                "InboundTexts::new(",
                "PhoneVerification::new(",
                "Reminders::new(",
                "Retention::new(",
                "Idempotency::new(",
            ]
            .iter()
            .any(|constructor| code.contains(constructor))
        })
        .map(|(name, _)| name)
        .collect();
    assert_eq!(builders, ["crates/application/src/compose.rs"]);
}
