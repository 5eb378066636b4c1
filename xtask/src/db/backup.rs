//! `cargo xtask db backup --out FILE` and `db restore --from FILE [--yes]` on either backend.
//!
//! PostgreSQL goes through deploy/scripts/backup-db.sh and restore-db.sh, so that there is one
//! way to back it up. SQLite is copied with `VACUUM INTO`, which writes a consistent, compacted
//! copy while the database stays in use; a restore checks the file first and then replaces the
//! database file in one rename.

use std::{
    io::{BufRead as _, IsTerminal as _, Write as _},
    path::{Path, PathBuf},
    process::Command,
};

use migration::sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};

use crate::TaskResult;

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/scripts")
}

/// The file of a `sqlite:` URL; `None` for another backend.
fn sqlite_file(url: &str) -> Option<Result<PathBuf, String>> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or("");
    Some(
        if path.is_empty() || path.starts_with(':') || rest.contains("mode=memory") {
            Err("an in-memory SQLite database has nothing to back up or restore".to_owned())
        } else {
            Ok(PathBuf::from(path))
        },
    )
}

/// Writes a backup of the database at `url` to `out`.
pub(crate) async fn backup(url: &str, out: &Path) -> TaskResult {
    if out.exists() {
        return Err(format!("{} exists already; choose another --out", out.display()).into());
    }
    match sqlite_file(url) {
        Some(file) => {
            let file = file?;
            copy_sqlite(&file, out).await?;
            check_sqlite_backup(out).await?;
        }
        None => {
            let staging = out.with_extension("staging");
            std::fs::create_dir_all(&staging)?;
            let made = Command::new(scripts_dir().join("backup-db.sh"))
                .env("DATABASE_URL", url)
                .env("BACKUP_DIR", &staging)
                .env("BACKUP_RETENTION_DAYS", "0")
                .env_remove("BACKUP_S3_URI")
                .output()?;
            std::io::stderr().write_all(&made.stderr)?;
            let made_file = String::from_utf8_lossy(&made.stdout)
                .lines()
                .last()
                .map(PathBuf::from);
            let moved = match (made.status.success(), made_file) {
                (true, Some(file)) => std::fs::copy(&file, out).map(|_| ()),
                _ => Err(std::io::Error::other("backup-db.sh failed")),
            };
            let _ = std::fs::remove_dir_all(&staging);
            moved?;
        }
    }
    println!("{}", out.display());
    Ok(())
}

/// Replaces the database at `url` with the backup `from`, once confirmed.
pub(crate) async fn restore(url: &str, from: &Path, confirmed: bool) -> TaskResult {
    let Some(target) = sqlite_file(url) else {
        let mut script = Command::new(scripts_dir().join("restore-db.sh"));
        script.env("DATABASE_URL", url);
        if confirmed {
            script.arg("--yes");
        }
        return crate::run(script.arg(from));
    };
    let target = target?;
    if !from.is_file() {
        return Err(format!("{} does not exist", from.display()).into());
    }
    check_sqlite_backup(from)
        .await
        .map_err(|error| format!("{} is not a valid backup: {error}", from.display()))?;
    if !confirmed {
        if !std::io::stdin().is_terminal() {
            return Err(
                "refusing to restore without confirmation: run in a terminal or pass --yes".into(),
            );
        }
        eprint!(
            "Replace everything in {} with {}? Type 'restore' to go on: ",
            target.display(),
            from.display()
        );
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "restore" {
            return Err("not confirmed; nothing was changed".into());
        }
    }
    // A compacted copy next to the target, then one rename: a failure leaves the target as it was.
    let incoming = target.with_extension("restoring");
    let _ = std::fs::remove_file(&incoming);
    copy_sqlite(from, &incoming).await?;
    std::fs::rename(&incoming, &target)?;
    for suffix in ["-wal", "-shm"] {
        let mut stale = target.clone().into_os_string();
        stale.push(suffix);
        let _ = std::fs::remove_file(stale);
    }
    eprintln!("restored {} into {}", from.display(), target.display());
    Ok(())
}

/// A SQLite backup must pass `PRAGMA integrity_check` and hold the migration table.
async fn check_sqlite_backup(file: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let db = open_read_only(file).await?;
    let checked = async {
        let integrity = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await?
            .ok_or("the integrity check answered nothing")?;
        let verdict: String = integrity.try_get_by_index(0)?;
        if verdict != "ok" {
            return Err(format!("the integrity check failed: {verdict}").into());
        }
        db.query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT count(*) FROM seaql_migrations",
        ))
        .await
        .map_err(|_| "it holds no Plant Texts schema (no seaql_migrations table)")?;
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    db.close().await?;
    checked
}

async fn open_read_only(file: &Path) -> Result<DatabaseConnection, DbErr> {
    Database::connect(ConnectOptions::new(format!(
        "sqlite://{}?mode=ro",
        file.display()
    )))
    .await
}

/// Writes a consistent, compacted copy of the SQLite database `from` to the new file `to`.
async fn copy_sqlite(from: &Path, to: &Path) -> Result<(), DbErr> {
    let db = open_read_only(from).await?;
    let copied = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "VACUUM INTO ?",
            [to.display().to_string().into()],
        ))
        .await;
    db.close().await?;
    copied.map(|_| ())
}
