//! The pool hands a connection back without a ping round trip (vendor/README.md). These tests
//! pin what the ping used to guarantee: a connection comes back clean, or not at all.

use std::time::Duration;

use application::unit_of_work::UnitOfWork as _;
use infrastructure::persistence::{Database, SeaOrmUnitOfWork};
use migration::sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait as _,
};

use crate::helpers::{Backend, TestDatabase, connect, count, postgres_admin_url, test_settings};

/// A pool of exactly one connection, so that every statement reuses the one before it.
async fn pool_of_one(database: &TestDatabase) -> Database {
    let settings = test_settings(
        database,
        &[
            ("DB_POOL_SIZE", "1"),
            ("DB_MIN_CONNECTIONS", "1"),
            ("DB_ACQUIRE_TIMEOUT_SECS", "5"),
        ],
    );
    Database::connect(&settings.database)
        .await
        .expect("the pool opens")
}

fn statement(sql: &str) -> Statement {
    Statement::from_string(DbBackend::Postgres, sql)
}

/// The text the one row of `sql` holds in its first column.
async fn text(db: &impl ConnectionTrait, sql: &str) -> Result<String, DbErr> {
    db.query_one_raw(statement(sql))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(sql.to_owned()))?
        .try_get_by_index::<String>(0)
}

/// The server process behind the pool's connection.
async fn backend_pid(db: &DatabaseConnection) -> Result<String, DbErr> {
    text(db, "SELECT pg_backend_pid()::text").await
}

/// Opens a transaction, runs `sql` in it and drops it without a commit; the server process it
/// ran on.
async fn abandon_a_transaction_after(db: &DatabaseConnection, sql: &str) -> String {
    let transaction = db.begin().await.unwrap();
    let pid = text(&transaction, "SELECT pg_backend_pid()::text")
        .await
        .unwrap();
    transaction.execute_raw(statement(sql)).await.unwrap();
    drop(transaction);
    pid
}

/// Waits until the count `sql` selects on the server (as the administrator) is `expected`;
/// fails after ten seconds.
async fn until_the_server_counts(sql: &str, expected: i64) {
    let admin = connect(&postgres_admin_url()).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while count(&admin, sql).await != expected {
        assert!(
            std::time::Instant::now() < deadline,
            "never counted {expected}: {sql}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_statement_cancelled_mid_way_leaves_its_connection_clean_for_the_next() {
    let database = TestDatabase::empty(Backend::Postgres).await;
    let pool = pool_of_one(&database).await;
    let db = pool.connection();
    let before = backend_pid(db).await.unwrap();

    let cancelled = tokio::time::timeout(
        Duration::from_millis(50),
        text(db, "SELECT 'stale' FROM pg_sleep(0.3)"),
    )
    .await;
    assert!(cancelled.is_err(), "the slow statement was cancelled");

    // The cancelled statement's late answer is drained, never read as the next one's.
    assert_eq!(text(db, "SELECT 'fresh'").await.unwrap(), "fresh");
    assert_eq!(
        backend_pid(db).await.unwrap(),
        before,
        "the connection was kept"
    );
}

/// Sends `signal` to the server process `pid` (the suite's PostgreSQL runs on this machine).
fn signal_server_process(pid: &str, signal: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid)
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid}");
}

#[tokio::test]
async fn a_transaction_cancelled_while_it_opens_does_not_stay_open_on_its_connection() {
    let database = TestDatabase::empty(Backend::Postgres).await;
    let pool = pool_of_one(&database).await;
    let db = pool.connection();
    let pid = backend_pid(db).await.unwrap();
    let unit_of_work = SeaOrmUnitOfWork::new(pool.clone());

    // The server process is stopped, so that the request is cancelled (as our request timeout
    // does) while the BEGIN waits for its answer: the one moment sqlx does not yet count the
    // transaction as open, so dropping it queues no ROLLBACK.
    signal_server_process(&pid, "STOP");
    let cancelled = tokio::time::timeout(Duration::from_millis(100), unit_of_work.begin()).await;
    signal_server_process(&pid, "CONT");
    assert!(
        cancelled.is_err(),
        "the BEGIN was answered by a stopped server"
    );

    // The pool's one connection is handed out again only once the release has drained it; after
    // the next statement on it, its server process is idle, not idle inside the cancelled BEGIN.
    assert_eq!(
        backend_pid(db).await.unwrap(),
        pid,
        "the connection was kept"
    );
    let admin = connect(&postgres_admin_url()).await;
    assert_eq!(
        count(
            &admin,
            &format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {pid} AND state = 'idle'"),
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_transaction_dropped_without_commit_is_rolled_back_before_its_connection_is_reused() {
    let database = TestDatabase::empty(Backend::Postgres).await;
    let pool = pool_of_one(&database).await;
    let db = pool.connection();
    db.execute_raw(statement("CREATE TABLE notes (body text)"))
        .await
        .unwrap();

    abandon_a_transaction_after(db, "INSERT INTO notes VALUES ('uncommitted')").await;

    assert_eq!(
        text(db, "SELECT count(*)::text FROM notes").await.unwrap(),
        "0"
    );
    // Not inside the abandoned transaction either: its insert had taken a transaction id.
    assert_eq!(
        text(
            db,
            "SELECT (pg_current_xact_id_if_assigned() IS NULL)::text"
        )
        .await
        .unwrap(),
        "true"
    );
}

#[tokio::test]
async fn a_dropped_transaction_ends_on_the_server_when_its_connection_is_released() {
    let database = TestDatabase::empty(Backend::Postgres).await;
    let pool = pool_of_one(&database).await;
    let db = pool.connection();
    let pid = abandon_a_transaction_after(db, "SELECT pg_advisory_xact_lock(727275)").await;

    // Nothing uses the pool again: the release alone sends the queued ROLLBACK, so the server
    // sees the transaction end and its lock go (without it, both would wait for the next
    // statement on this connection).
    until_the_server_counts(
        &format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {pid} AND state = 'idle'"),
        1,
    )
    .await;
    let admin = connect(&postgres_admin_url()).await;
    assert_eq!(
        count(
            &admin,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 727275"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_connection_killed_between_two_statements_fails_at_most_one_and_is_replaced() {
    let database = TestDatabase::empty(Backend::Postgres).await;
    let pool = pool_of_one(&database).await;
    let db = pool.connection();
    let killed = backend_pid(db).await.unwrap();

    TestDatabase::admin_sql(&format!("SELECT pg_terminate_backend({killed})")).await;
    until_the_server_counts(
        &format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {killed}"),
        0,
    )
    .await;

    // Owing nothing when it died, the connection is not found out at release: its next
    // statement may fail, and that failure closes it. Every later statement gets a new one.
    let attempts = [
        backend_pid(db).await,
        backend_pid(db).await,
        backend_pid(db).await,
    ];
    let failed = attempts.iter().filter(|attempt| attempt.is_err()).count();
    assert!(failed <= 1, "{attempts:?}");
    for attempt in &attempts[1..] {
        let pid = attempt.as_ref().expect("a new connection answers");
        assert_ne!(*pid, killed);
    }
}
