//! `cargo xtask db ...`: migrations and seed data on DATABASE_URL (the development SQLite file
//! by default). Destructive operations live here, never behind HTTP endpoints.

use migration::{
    Migrator, MigratorTrait,
    sea_orm::{ConnectOptions, Database, DatabaseConnection, TransactionTrait},
    seed,
};

use crate::TaskResult;

const DEFAULT_URL: &str = "sqlite://plant-texts.db?mode=rwc";

pub(crate) fn main(args: &[String]) -> TaskResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(dispatch(args))
}

async fn connect(log_statements: bool) -> Result<DatabaseConnection, Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(log_statements);
    Ok(Database::connect(options).await?)
}

async fn dispatch(args: &[String]) -> TaskResult {
    match args.first().map(String::as_str) {
        Some("migrate") => Ok(Migrator::up(&connect(false).await?, None).await?),
        Some("rollback") => {
            let steps = args
                .get(1)
                .map(|n| n.parse::<u32>())
                .transpose()?
                .unwrap_or(1);
            Ok(Migrator::down(&connect(false).await?, Some(steps)).await?)
        }
        Some("status") => Ok(Migrator::status(&connect(false).await?).await?),
        Some("fresh") => Ok(Migrator::fresh(&connect(false).await?).await?),
        Some("reset") => {
            let db = connect(false).await?;
            Migrator::reset(&db).await?;
            Migrator::up(&db, None).await?;
            print_seed(&db).await
        }
        Some("seed") => print_seed(&connect(false).await?).await,
        Some("sql") => print_pending_sql().await,
        _ => Err(
            "usage: cargo xtask db <migrate | rollback [N] | status | fresh | reset | seed | sql>"
                .into(),
        ),
    }
}

async fn print_seed(db: &DatabaseConnection) -> TaskResult {
    let report = seed::run(db).await?;
    println!("seeded: {report:?}");
    Ok(())
}

/// Runs the pending migrations inside a transaction that is rolled back, printing every
/// statement. SQLite and PostgreSQL both have transactional DDL, so nothing is applied.
async fn print_pending_sql() -> TaskResult {
    tracing_subscriber::fmt()
        .with_env_filter("sqlx::query=info")
        .without_time()
        .with_target(false)
        .with_level(false)
        .init();
    let db = connect(true).await?;
    let transaction = db.begin().await?;
    Migrator::up(&transaction, None).await?;
    transaction.rollback().await?;
    println!("-- rolled back: nothing was applied");
    Ok(())
}
