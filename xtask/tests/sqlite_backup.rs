//! `cargo xtask db backup` and `db restore` on SQLite: a populated database round-trips with
//! every row count equal, and a damaged or foreign file is refused before the target is touched.

#![expect(
    clippy::unwrap_used,
    reason = "set-up code of the tests fails the test loudly"
)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use migration::sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement};

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "plant-texts-xtask-backup-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn url(file: &Path) -> String {
    format!("sqlite://{}?mode=rwc", file.display())
}

fn xtask(database: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("db")
        .args(args)
        .env("DATABASE_URL", url(database))
        .env_remove("APP_ENV")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn row_counts(database: &Path) -> BTreeMap<String, i64> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = Database::connect(ConnectOptions::new(format!(
            "sqlite://{}?mode=ro",
            database.display()
        )))
        .await
        .unwrap();
        let tables = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            ))
            .await
            .unwrap();
        let mut counts = BTreeMap::new();
        for table in tables {
            let name: String = table.try_get("", "name").unwrap();
            let row = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    format!("SELECT count(*) AS n FROM \"{name}\""),
                ))
                .await
                .unwrap()
                .unwrap();
            counts.insert(name, row.try_get::<i64>("", "n").unwrap());
        }
        db.close().await.unwrap();
        counts
    })
}

/// A migrated SQLite database with reference and synthetic data.
fn populated(dir: &Path) -> PathBuf {
    let database = dir.join("live.db");
    succeeded(&xtask(&database, &["migrate"]));
    succeeded(&xtask(
        &database,
        &[
            "seed",
            "--synthetic",
            "--users",
            "3",
            "--gardens",
            "2",
            "--plantings",
            "10",
            "--events",
            "20",
        ],
    ));
    database
}

#[test]
fn a_sqlite_backup_restores_into_another_database_with_every_row_count_equal() {
    let dir = scratch_dir();
    let live = populated(&dir);
    let backup = dir.join("backup.sqlite");

    let printed = succeeded(&xtask(
        &live,
        &["backup", "--out", backup.to_str().unwrap()],
    ));
    assert_eq!(printed.lines().last(), Some(backup.to_str().unwrap()));
    let restored = dir.join("restored.db");
    succeeded(&xtask(
        &restored,
        &["restore", "--from", backup.to_str().unwrap(), "--yes"],
    ));

    let original = row_counts(&live);
    assert!(
        original["users"] >= 3 && original["plantings"] >= 10,
        "{original:?}"
    );
    assert_eq!(row_counts(&restored), original);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_truncated_corrupt_or_foreign_file_is_refused_and_the_target_left_alone() {
    let dir = scratch_dir();
    let live = populated(&dir);
    let backup = dir.join("backup.sqlite");
    succeeded(&xtask(
        &live,
        &["backup", "--out", backup.to_str().unwrap()],
    ));
    let bytes = std::fs::read(&backup).unwrap();
    let truncated = dir.join("truncated.sqlite");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let garbage = dir.join("garbage.sqlite");
    std::fs::write(
        &garbage,
        b"this is not a database, just some text".repeat(200),
    )
    .unwrap();
    // A sound SQLite file of something else.
    let foreign = dir.join("foreign.sqlite");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let db = Database::connect(ConnectOptions::new(url(&foreign)))
                .await
                .unwrap();
            db.execute_unprepared("CREATE TABLE recipes (name TEXT)")
                .await
                .unwrap();
            db.close().await.unwrap();
        });
    let target = dir.join("target.db");
    succeeded(&xtask(&target, &["migrate"]));
    let before = row_counts(&target);

    for file in [&truncated, &garbage, &foreign, &dir.join("missing.sqlite")] {
        let refused = xtask(
            &target,
            &["restore", "--from", file.to_str().unwrap(), "--yes"],
        );
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{} was restored", file.display());
        assert!(
            stderr.contains("is not a valid backup") || stderr.contains("does not exist"),
            "{}: {stderr}",
            file.display()
        );
    }
    let unconfirmed = xtask(&target, &["restore", "--from", backup.to_str().unwrap()]);
    assert!(!unconfirmed.status.success());
    assert!(String::from_utf8_lossy(&unconfirmed.stderr).contains("without confirmation"));
    assert_eq!(row_counts(&target), before, "the target was left alone");
    let _ = std::fs::remove_dir_all(&dir);
}
