//! `cargo xtask db ...`: migrations and seed data on DATABASE_URL (the development SQLite file
//! by default). Destructive operations live here, never behind HTTP endpoints.

use migration::{
    Migrator, MigratorTrait,
    sea_orm::{ConnectOptions, Database, DatabaseConnection, TransactionTrait},
    seed,
};

use tracing::field::{Field, Visit};
use tracing_subscriber::{
    Layer,
    layer::{Context, SubscriberExt as _},
    util::SubscriberInitExt as _,
};

use crate::TaskResult;

mod backup;

const DEFAULT_URL: &str = "sqlite://plant-texts.db?mode=rwc";

pub(crate) fn main(args: &[String]) -> TaskResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(dispatch(args))
}

/// DATABASE_URL, or the development SQLite file.
fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// The value after `flag` in `args`.
fn option(args: &[String], flag: &str) -> Result<std::path::PathBuf, String> {
    args.iter()
        .position(|arg| arg == flag)
        .and_then(|at| args.get(at + 1))
        .map(std::path::PathBuf::from)
        .ok_or_else(|| format!("{flag} FILE is required"))
}

async fn connect(log_statements: bool) -> Result<DatabaseConnection, Box<dyn std::error::Error>> {
    let mut options = ConnectOptions::new(database_url());
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
        Some("status") => print_status(&connect(false).await?).await,
        Some("fresh") => Ok(Migrator::fresh(&connect(false).await?).await?),
        Some("reset") => {
            let db = connect(false).await?;
            Migrator::reset(&db).await?;
            Migrator::up(&db, None).await?;
            print_seed(&db).await
        }
        Some("seed") if args.get(1).map(String::as_str) == Some("--synthetic") => {
            seed_synthetic(&connect(false).await?, &args[2..]).await
        }
        Some("seed") => print_seed(&connect(false).await?).await,
        Some("sql") => print_pending_sql().await,
        Some("backup") => backup::backup(&database_url(), &option(args, "--out")?).await,
        Some("restore") => {
            let confirmed = args.iter().any(|arg| arg == "--yes");
            backup::restore(&database_url(), &option(args, "--from")?, confirmed).await
        }
        _ => Err(
            "usage: cargo xtask db <migrate | rollback [N] | status | fresh | reset | seed \
             [--synthetic [--users N --gardens N --plantings N --events N --seed S]] | sql | \
             backup --out FILE | restore --from FILE [--yes]>"
                .into(),
        ),
    }
}

/// `db seed --synthetic [--users N --gardens N --plantings N --events N --seed S]`: the
/// reference data, then a reproducible synthetic data set, with a progress line per table.
async fn seed_synthetic(db: &DatabaseConnection, args: &[String]) -> TaskResult {
    // Synthetic accounts share a published password: never in a deployed environment.
    if let Ok(environment) = std::env::var("APP_ENV")
        && matches!(environment.as_str(), "staging" | "production")
    {
        return Err(format!(
            "refusing synthetic data with APP_ENV={environment}: its accounts share a published password"
        )
        .into());
    }
    let mut size = seed::synthetic::SyntheticSize::default();
    for pair in args.chunks(2) {
        let [flag, value] = pair else {
            return Err(format!("{} needs a value", pair[0]).into());
        };
        let value: u64 = value
            .parse()
            .map_err(|_| format!("{flag} needs a whole number, not `{value}`"))?;
        match flag.as_str() {
            "--users" => size.users = value.max(1),
            "--gardens" => size.gardens = value,
            "--plantings" => size.plantings = value,
            "--events" => size.events = value,
            "--seed" => size.seed = value,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    seed::run(db).await?;
    let started = std::time::Instant::now();
    let mut last_table = String::new();
    seed::synthetic::run(db, size, |table, done, total| {
        if table != last_table && !last_table.is_empty() {
            eprintln!();
        }
        last_table = table.to_owned();
        let width = 30;
        let filled = usize::try_from(done * width / total.max(1)).unwrap_or(0);
        eprint!(
            "\r{table:<16} [{}{}] {done}/{total}",
            "#".repeat(filled),
            " ".repeat(usize::try_from(width).unwrap_or(0) - filled)
        );
    })
    .await?;
    eprintln!();
    println!(
        "seeded {} users, {} gardens, {} plantings, {} events (seed {}) in {:.1} s",
        size.users,
        size.gardens,
        size.plantings,
        size.events,
        size.seed,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn print_status(db: &DatabaseConnection) -> TaskResult {
    for migration in Migrator::get_migration_with_status(db).await? {
        println!("{:<8} {}", migration.status(), migration.name());
    }
    Ok(())
}

async fn print_seed(db: &DatabaseConnection) -> TaskResult {
    let report = seed::run(db).await?;
    println!("seeded: {report:?}");
    Ok(())
}

/// Runs the pending migrations inside a transaction that is rolled back, printing every
/// statement. SQLite and PostgreSQL both have transactional DDL, so nothing is applied.
async fn print_pending_sql() -> TaskResult {
    tracing_subscriber::registry().with(StatementPrinter).init();
    let db = connect(true).await?;
    let transaction = db.begin().await?;
    Migrator::up(&transaction, None).await?;
    transaction.rollback().await?;
    println!("-- rolled back: nothing was applied");
    Ok(())
}

/// Prints the `db.statement` field of sqlx's query events, one SQL statement a line.
struct StatementPrinter;

impl<S: tracing::Subscriber> Layer<S> for StatementPrinter {
    fn on_event(&self, event: &tracing::Event<'_>, _context: Context<'_, S>) {
        struct Statement(Option<String>);
        impl Visit for Statement {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                if field.name() == "db.statement" {
                    self.0 = Some(format!("{value:?}"));
                }
            }
            fn record_str(&mut self, field: &Field, value: &str) {
                if field.name() == "db.statement" {
                    self.0 = Some(value.to_owned());
                }
            }
        }
        let mut statement = Statement(None);
        event.record(&mut statement);
        if let Some(sql) = statement
            .0
            .map(|sql| sql.trim().trim_end_matches(';').to_owned())
            .filter(|sql| !sql.is_empty())
        {
            println!("{sql};");
        }
    }
}
