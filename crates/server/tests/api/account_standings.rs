//! Account standings held in memory: an authenticated request reads its account once, and every
//! change to what its token is checked against — made here, or through another instance — is
//! heard before the next request relies on it.

use std::time::Duration;

use application::{identity::ports::UserRepository as _, unit_of_work::UnitOfWork as _};
use chrono::Utc;
use domain::identity::{AccountStanding, TenantId, UserId};
use infrastructure::persistence::{Database, SeaOrmUnitOfWork, identity::SeaOrmUserRepository};
use migration::sea_orm::{ConnectionTrait, Statement};
use tokio::task::JoinHandle;

use crate::helpers::{
    Backend, TestApp, TestDatabase, TestUser, connect, counted_database, on_both_backends,
    spawn_app_on, wait_until,
};

/// Longer than any test: an entry that goes away went because a change was heard.
const LONG_TTL: Duration = Duration::from_secs(600);

async fn account_of(app: &TestApp, user: &TestUser) -> (TenantId, UserId) {
    let me = app.get_as(&user.access_token, "/api/v2/me").await.json();
    (
        TenantId::from_uuid(me["tenant_id"].as_str().unwrap().parse().unwrap()),
        UserId::from_uuid(user.id.parse().unwrap()),
    )
}

/// Follows the change feed of `database` until dropped, once it is in step. SQLite's catalog
/// poll runs once, at the start, so that it adds no statement to the counts.
async fn following(database: &Database) -> JoinHandle<()> {
    let follower = {
        let database = database.clone();
        tokio::spawn(async move { database.follow_changes(Duration::from_secs(3600)).await })
    };
    wait_until(|| database.changes().accounts().is_in_step()).await;
    follower
}

async fn standing(
    users: &SeaOrmUserRepository,
    (tenant, user): (TenantId, UserId),
) -> Option<AccountStanding> {
    users.find_standing(tenant, user).await.unwrap()
}

/// Reads the standing until `shows` holds for it; fails after ten seconds.
async fn standing_once(
    users: &SeaOrmUserRepository,
    account: (TenantId, UserId),
    shows: impl Fn(Option<AccountStanding>) -> bool,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let read = standing(users, account).await;
        if shows(read) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the change was never heard: {read:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

on_both_backends! {
    async fn a_standing_is_read_once_then_served_from_memory_until_this_instance_changes_it(backend: Backend) {
        let database = TestDatabase::migrated(backend).await;
        let url = database.url.clone();
        let app = spawn_app_on(database, &[]).await;
        let user = app.signed_up("demo", "cached@example.com").await;
        let account = account_of(&app, &user).await;
        let (tenant, id) = account;
        let (observed, statements) = counted_database(&url, 2, LONG_TTL).await;
        let follower = following(&observed).await;
        let users = SeaOrmUserRepository::new(observed.clone());

        statements.store(0, std::sync::atomic::Ordering::SeqCst);
        let first = standing(&users, account).await.unwrap();
        for _ in 0..20 {
            assert_eq!(standing(&users, account).await, Some(first));
        }
        assert_eq!(statements.load(std::sync::atomic::Ordering::SeqCst), 1, "read once, then from memory");

        // A revocation in a transaction: a read between the change and the commit still sees
        // the old standing, and the commit drops whatever it cached.
        let transaction = SeaOrmUnitOfWork::new(observed.clone()).begin().await.unwrap();
        transaction.users().revoke_tokens(tenant, id, Utc::now()).await.unwrap();
        assert_eq!(standing(&users, account).await, Some(first));
        transaction.commit().await.unwrap();
        let revoked = standing(&users, account).await.unwrap();
        assert_eq!(revoked.token_version, first.token_version + 1);
        assert!(!revoked.accepts_access_token(first.token_version));

        // A deactivation on the pool is dropped at once.
        users.set_access(id, Some(false), None, Utc::now()).await.unwrap();
        assert!(!standing(&users, account).await.unwrap().is_active);

        // So is an erasure.
        assert!(users.erase(tenant, id).await.unwrap());
        assert_eq!(standing(&users, account).await, None);
        follower.abort();
    }

    async fn a_standing_is_not_served_from_memory_while_the_feed_is_out_of_step_or_the_cache_is_off(backend: Backend) {
        let database = TestDatabase::migrated(backend).await;
        let url = database.url.clone();
        let app = spawn_app_on(database, &[]).await;
        let user = app.signed_up("demo", "uncached@example.com").await;
        let account = account_of(&app, &user).await;

        // Nothing follows this instance's feed: it could miss changes, so it keeps nothing.
        let (unfollowed, asked) = counted_database(&url, 1, LONG_TTL).await;
        let users = SeaOrmUserRepository::new(unfollowed);
        asked.store(0, std::sync::atomic::Ordering::SeqCst);
        for _ in 0..3 {
            assert!(standing(&users, account).await.is_some());
        }
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 3);

        // AUTH_CACHE_TTL_MS=0: in step, and still every read asks.
        let (uncached, asked) = counted_database(&url, 1, Duration::ZERO).await;
        let follower = following(&uncached).await;
        let users = SeaOrmUserRepository::new(uncached);
        asked.store(0, std::sync::atomic::Ordering::SeqCst);
        for _ in 0..3 {
            assert!(standing(&users, account).await.is_some());
        }
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 3);
        follower.abort();
    }

    async fn a_token_revoked_through_the_api_is_refused_on_the_very_next_request(backend: Backend) {
        let database = TestDatabase::migrated(backend).await;
        let app = spawn_app_on(database, &[]).await;
        let user = app.signed_up("demo", "revoked@example.com").await;
        for _ in 0..3 {
            assert_eq!(app.get_as(&user.access_token, "/api/v2/plants").await.status, 200);
        }

        let logout = app.post_json_as(&user.access_token, "/api/v2/auth/logout-all", &serde_json::json!({})).await;
        assert!(logout.status < 300, "{}", logout.body);

        assert_eq!(app.get_as(&user.access_token, "/api/v2/plants").await.status, 401);
    }
}

async fn execute(url: &str, sql: &str) {
    let db = connect(url).await;
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn a_change_made_through_another_instance_is_heard_long_before_the_entry_expires() {
    let database = TestDatabase::migrated(Backend::Postgres).await;
    let url = database.url.clone();
    let app = spawn_app_on(database, &[]).await;
    let user = app.signed_up("demo", "elsewhere@example.com").await;
    let account = account_of(&app, &user).await;
    let (observed, _) = counted_database(&url, 2, LONG_TTL).await;
    let follower = following(&observed).await;
    let users = SeaOrmUserRepository::new(observed.clone());
    let first = standing(&users, account).await.unwrap();

    // Another instance (or an operator) revokes, deactivates, promotes, then deletes.
    let id = account.1.as_uuid();
    execute(
        &url,
        &format!("UPDATE users SET token_version = token_version + 1 WHERE id = '{id}'"),
    )
    .await;
    standing_once(&users, account, |s| {
        s.is_some_and(|s| s.token_version == first.token_version + 1)
    })
    .await;
    execute(
        &url,
        &format!("UPDATE users SET is_active = false WHERE id = '{id}'"),
    )
    .await;
    standing_once(&users, account, |s| s.is_some_and(|s| !s.is_active)).await;
    execute(
        &url,
        &format!("UPDATE users SET role = 'admin' WHERE id = '{id}'"),
    )
    .await;
    standing_once(&users, account, |s| {
        s.is_some_and(|s| s.role == domain::identity::Role::Admin)
    })
    .await;

    // While the listener's connection is cut, changes may be missed: the cache starts over.
    let db = connect(&url).await;
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(pg_terminate_backend(pid)) AS cut FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'plant-texts-change-feed'",
    ))
    .await
    .unwrap();
    wait_until(|| !observed.changes().accounts().is_in_step()).await;
    execute(
        &url,
        &format!("UPDATE users SET token_version = token_version + 1 WHERE id = '{id}'"),
    )
    .await;
    wait_until(|| observed.changes().accounts().is_in_step()).await;
    assert_eq!(
        standing(&users, account).await.map(|s| s.token_version),
        Some(first.token_version + 2),
        "the change made while nothing listened is read, not served from before"
    );

    // TRUNCATE fires no row trigger; its own trigger announces every account.
    execute(&url, "TRUNCATE users CASCADE").await;
    standing_once(&users, account, |s| s.is_none()).await;
    follower.abort();
}
