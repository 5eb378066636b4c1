//! The public catalog: paging, search, companions, personalities, caching and invalidation.

use std::{
    collections::HashSet,
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use application::catalog::ports::CatalogRepository as _;
use infrastructure::persistence::SeaOrmCatalogRepository;
use migration::sea_orm::{ConnectionTrait, Statement, Value as DbValue};
use serde_json::Value;

use crate::helpers::{
    Backend, TestApp, TestDatabase, connect, counted_database, on_both_backends, redis_url,
    spawn_app, spawn_app_with, wait_until,
};

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["common_name"].as_str().unwrap().to_owned())
        .collect()
}

/// Renames a species directly in the database, as an operator or another process would.
async fn rename_species(app: &TestApp, backend: Backend, id: &str, name: &str) {
    let db = connect(&app.database.url).await;
    let sql = match backend {
        Backend::Sqlite => "UPDATE catalog_plants SET common_name = ?, updated_at = ? WHERE id = ?",
        Backend::Postgres => {
            "UPDATE catalog_plants SET common_name = $1, updated_at = $2 WHERE id = $3"
        }
    };
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            [
                DbValue::from(name),
                DbValue::from(chrono::Utc::now() + chrono::TimeDelta::days(1)),
                DbValue::from(uuid::Uuid::parse_str(id).unwrap()),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(result.rows_affected(), 1);
}

on_both_backends! {
    async fn the_catalog_pages_through_every_species_once(backend: Backend) {
        let app = spawn_app(backend).await;
        let mut seen = Vec::new();
        let mut path = "/api/v2/catalog?limit=10".to_owned();
        loop {
            let response = app.get(&path).await;
            assert_eq!(response.status, 200, "{}", response.body);
            let page = response.json();
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 10);
            seen.extend(items.iter().map(|item| item["id"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v2/catalog?limit=10&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), migration::seed::PLANTS.len());
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len(), "no species twice");
    }

    async fn bad_paging_and_search_parameters_are_named_in_a_422(backend: Backend) {
        let app = spawn_app(backend).await;
        let q = "x".repeat(101);
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=abc", "limit"),
            ("limit=-1", "limit"),
            ("cursor=not-a-cursor", "cursor"),
            (&*format!("q={q}"), "q"),
        ] {
            let response = app.get(&format!("/api/v2/catalog?{query}")).await;
            assert_eq!(response.status, 422, "{query}: {}", response.body);
            let body = response.json();
            assert_eq!(body["code"], "ERR_VALIDATION_001");
            assert_eq!(body["errors"][0]["field"], field, "{query}");
        }
    }

    async fn search_matches_common_and_scientific_names_ignoring_case(backend: Backend) {
        let app = spawn_app(backend).await;
        assert!(names(&app.get("/api/v2/catalog?q=BASIL").await.json()).contains(&"Basil".to_owned()));
        assert!(names(&app.get("/api/v2/catalog?q=lycopersicum").await.json()).contains(&"Tomato".to_owned()));
        let nothing = app.get("/api/v2/catalog?q=no-such-plant").await.json();
        assert_eq!(nothing["items"], serde_json::json!([]));
        assert_eq!(nothing["next_cursor"], Value::Null);
        // SQL-looking search text is only text.
        let injection = app.get("/api/v2/catalog?q=%27%20OR%201%3D1%20--").await;
        assert_eq!(injection.status, 200);
        assert_eq!(injection.json()["items"], serde_json::json!([]));
    }

    async fn a_species_lists_its_companions_and_restrictions(backend: Backend) {
        let app = spawn_app(backend).await;
        let tomato = app.get(&format!("/api/v2/catalog/{}", app.catalog_id("Tomato").await)).await;
        assert_eq!(tomato.status, 200);
        let tomato = tomato.json();
        assert_eq!(tomato["scientific_name"], "Solanum lycopersicum");
        assert_eq!(tomato["restricted"], false);
        let companions = tomato["companions"].as_array().unwrap();
        let kind_of = |name: &str| {
            companions
                .iter()
                .find(|c| c["common_name"] == name)
                .unwrap_or_else(|| panic!("{name} is a companion of tomato"))["kind"]
                .clone()
        };
        assert_eq!(kind_of("Basil"), "beneficial");
        assert_eq!(kind_of("Fennel"), "antagonistic");

        let kudzu = app.get(&format!("/api/v2/catalog/{}", app.catalog_id("Kudzu").await)).await.json();
        assert_eq!(kudzu["restricted"], true);
        assert!(kudzu["restricted_reason"].as_str().is_some_and(|r| !r.is_empty()));

        let unknown = app.get(&format!("/api/v2/catalog/{}", uuid::Uuid::now_v7())).await;
        assert_eq!(unknown.status, 404);
        assert_eq!(unknown.json()["code"], "ERR_RESOURCE_001");
        assert_eq!(app.get("/api/v2/catalog/not-a-uuid").await.status, 404);
    }

    async fn catalog_answers_carry_an_etag_and_a_matching_if_none_match_gets_304(backend: Backend) {
        let app = spawn_app(backend).await;
        for path in ["/api/v2/catalog", "/api/v2/personalities", &format!("/api/v2/catalog/{}", app.catalog_id("Basil").await)] {
            let first = app.get(path).await;
            assert_eq!(first.status, 200, "{path}");
            assert_eq!(first.header("cache-control"), Some("public, max-age=300"), "{path}");
            let etag = first.header("etag").expect("an ETag").to_owned();

            let again = app
                .send(|client, url| client.get(url).header("if-none-match", &etag), path)
                .await;
            assert_eq!(again.status, 304, "{path}");
            assert_eq!(again.body, "");
            assert_eq!(again.header("etag"), Some(etag.as_str()));

            let stale = app
                .send(|client, url| client.get(url).header("if-none-match", "\"stale\""), path)
                .await;
            assert_eq!(stale.status, 200, "{path}");
            assert_eq!(stale.body, first.body);

            // Public reads ignore Authorization, even a bogus one, and stay publicly cacheable.
            let with_token = app
                .send(|client, url| client.get(url).bearer_auth("not-a-token"), path)
                .await;
            assert_eq!(with_token.status, 200, "{path}");
            assert_eq!(with_token.header("cache-control"), Some("public, max-age=300"));
        }
    }

    async fn personalities_show_their_key_name_and_description_only(backend: Backend) {
        let app = spawn_app(backend).await;
        let page = app.get("/api/v2/personalities").await.json();
        let items = page["items"].as_array().unwrap();
        let keys: Vec<&str> = items.iter().map(|p| p["key"].as_str().unwrap()).collect();
        for key in ["chill_friend", "drama_queen", "wise_elder", "sunny_optimist"] {
            assert!(keys.contains(&key), "{key}");
        }
        for item in items {
            let fields: Vec<&String> = item.as_object().unwrap().keys().collect();
            assert_eq!(fields, ["description", "key", "name"]);
        }
    }

    async fn personalities_are_paged_like_every_list(backend: Backend) {
        let app = spawn_app(backend).await;
        let everyone = app.get("/api/v2/personalities?limit=100").await.json();
        let all: Vec<String> = everyone["items"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap().to_owned()).collect();
        assert!(all.len() > 2, "{all:?}");
        assert!(everyone["next_cursor"].is_null());

        let mut paged = Vec::new();
        let mut path = "/api/v2/personalities?limit=2".to_owned();
        loop {
            let page = app.get(&path).await.json();
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 2);
            paged.extend(items.iter().map(|p| p["key"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v2/personalities?limit=2&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(paged, all, "every personality once, in one order");

        for (query, field) in [("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"), ("cursor=not-a-cursor", "cursor")] {
            let response = app.get(&format!("/api/v2/personalities?{query}")).await;
            assert_eq!(response.status, 422, "{query}: {}", response.body);
            let body = response.json();
            assert_eq!(body["code"], "ERR_VALIDATION_001");
            if query != "limit=abc" {
                assert_eq!(body["errors"][0]["field"], field, "{query}");
            }
        }
    }

    async fn an_edited_companion_reason_or_personality_text_is_served_once_announced(backend: Backend) {
        let app = spawn_app(backend).await;
        let tomato = app.catalog_id("Tomato").await;
        let path = format!("/api/v2/catalog/{tomato}");
        assert_eq!(app.get(&path).await.status, 200);
        assert_eq!(app.get("/api/v2/personalities?limit=100").await.status, 200);

        // Edited in place: no row count or species timestamp changes.
        app.execute_sql("UPDATE companion_relationships SET reason = 'Edited reason.'", vec![]).await;
        app.execute_sql("UPDATE personalities SET description = 'Edited description.'", vec![]).await;

        let species = served_once(&app, &path, |species| {
            species["companions"].as_array().unwrap().iter().all(|c| c["reason"] == "Edited reason.")
        })
        .await;
        assert!(!species["companions"].as_array().unwrap().is_empty());
        served_once(&app, "/api/v2/personalities?limit=100", |page| {
            page["items"].as_array().unwrap().iter().all(|p| p["description"] == "Edited description.")
        })
        .await;
    }

    async fn a_change_to_the_stored_catalog_is_served_once_announced_with_a_new_etag(backend: Backend) {
        let app = spawn_app(backend).await;
        catalog_changes_are_served(&app, backend).await;
    }

    async fn the_catalog_revision_is_read_from_the_change_feed_without_a_statement(backend: Backend) {
        let database = TestDatabase::migrated(backend).await;
        let (observed, statements) = counted_database(&database.url, 2, Duration::ZERO).await;
        let repository = SeaOrmCatalogRepository::new(observed.clone());

        // Out of step (nothing follows the feed yet): each read asks the database.
        assert_eq!(observed.changes().catalog_revision(), None);
        let asked = repository.revision().await.unwrap();
        assert_eq!(statements.swap(0, Ordering::SeqCst), 1);

        let follower = {
            let database = observed.clone();
            tokio::spawn(async move { database.follow_changes(Duration::from_millis(20)).await })
        };
        wait_until(|| observed.changes().catalog_revision().is_some()).await;
        statements.store(0, Ordering::SeqCst);
        for _ in 0..100 {
            assert_eq!(repository.revision().await.unwrap(), asked);
        }
        assert_eq!(statements.load(Ordering::SeqCst), 0, "in step: no statement per read");

        let db = connect(&database.url).await;
        db.execute_unprepared("UPDATE personalities SET description = 'Changed elsewhere.'")
            .await
            .unwrap();
        wait_until(|| observed.changes().catalog_revision().map(|r| r.to_string()) != Some(asked.0.clone())).await;
        assert_ne!(repository.revision().await.unwrap(), asked, "the change was heard");

        // A restored backup or a rolled-back migration takes the counter down: the feed follows.
        let heard_before = observed.changes().catalog_revision().unwrap();
        db.execute_unprepared("UPDATE catalog_revision SET revision = 0").await.unwrap();
        db.execute_unprepared("UPDATE personalities SET description = 'After the restore.'")
            .await
            .unwrap();
        let stored = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT revision FROM catalog_revision WHERE id = 1",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "revision")
            .unwrap();
        assert!(stored < heard_before, "the counter went down: {stored} < {heard_before}");
        wait_until(|| observed.changes().catalog_revision() == Some(stored)).await;
        follower.abort();
    }
}

/// Reads `path` until `shows` holds for its body (an edit reaches an instance through the
/// change feed, within moments); fails after ten seconds.
async fn served_once(app: &TestApp, path: &str, shows: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = app.get(path).await;
        assert_eq!(response.status, 200, "{}", response.body);
        let body = response.json();
        if shows(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "the change never showed: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn catalog_changes_are_served(app: &TestApp, backend: Backend) {
    let id = app.catalog_id("Fennel").await;
    let path = format!("/api/v2/catalog/{id}");
    let before = app.get(&path).await;
    let old_etag = before.header("etag").unwrap().to_owned();
    assert_eq!(before.json()["common_name"], "Fennel");

    rename_species(app, backend, &id, "Florence Fennel").await;

    served_once(app, &path, |species| {
        species["common_name"] == "Florence Fennel"
    })
    .await;
    let after = app
        .send(
            |client, url| client.get(url).header("if-none-match", &old_etag),
            &path,
        )
        .await;
    assert_eq!(after.status, 200);
    assert_eq!(after.json()["common_name"], "Florence Fennel");
    assert_ne!(after.header("etag"), Some(old_etag.as_str()));
    assert!(
        names(&app.get("/api/v2/catalog?q=florence").await.json())
            .contains(&"Florence Fennel".to_owned())
    );
}

#[tokio::test]
async fn a_catalog_change_made_while_the_listener_was_cut_off_is_heard_after_it_reconnects() {
    let app = spawn_app(Backend::Postgres).await;
    let id = app.catalog_id("Fennel").await;
    assert_eq!(app.get(&format!("/api/v2/catalog/{id}")).await.status, 200);
    let db = connect(&app.database.url).await;
    let cut_listeners = || async {
        db.query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(pg_terminate_backend(pid)) AS cut FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'plant-texts-change-feed'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "cut")
        .unwrap()
    };
    // The instance starts listening just after it starts serving.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let cut = cut_listeners().await;
        assert!(cut <= 1, "one listener per instance");
        if cut == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the instance never listened");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    rename_species(&app, Backend::Postgres, &id, "Florence Fennel").await;

    served_once(&app, &format!("/api/v2/catalog/{id}"), |species| {
        species["common_name"] == "Florence Fennel"
    })
    .await;
}

#[tokio::test]
async fn with_a_pool_of_one_connection_the_change_feed_takes_none_of_it() {
    let app = spawn_app_with(
        Backend::Postgres,
        &[("DB_POOL_SIZE", "1"), ("DB_MIN_CONNECTIONS", "1")],
    )
    .await;
    let user = app.signed_up("demo", "single@example.com").await;
    let id = app.catalog_id("Fennel").await;
    rename_species(&app, Backend::Postgres, &id, "Florence Fennel").await;
    served_once(&app, &format!("/api/v2/catalog/{id}"), |species| {
        species["common_name"] == "Florence Fennel"
    })
    .await;
    assert_eq!(
        app.get_as(&user.access_token, "/api/v2/plants")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn with_redis_the_catalog_is_cached_there_and_a_change_is_still_served_once_announced() {
    let app = spawn_app_with(Backend::Postgres, &[("REDIS_URL", &redis_url())]).await;
    assert_eq!(app.get("/api/v2/catalog").await.status, 200);
    let keys = catalog_keys_in_redis().await;
    assert!(
        keys.iter()
            .any(|key| key.starts_with("plant-texts:catalog:")),
        "{keys:?}"
    );
    catalog_changes_are_served(&app, Backend::Postgres).await;
}

/// The catalog keys in the test Redis, read with a plain RESP exchange.
async fn catalog_keys_in_redis() -> Vec<String> {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
    let url = reqwest::Url::parse(&redis_url()).unwrap();
    let address = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(6379));
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut stream = BufReader::new(stream);
    let pattern = "plant-texts:catalog:*";
    let command = format!("*2\r\n$4\r\nKEYS\r\n${}\r\n{pattern}\r\n", pattern.len());
    stream
        .get_mut()
        .write_all(command.as_bytes())
        .await
        .unwrap();
    let mut line = String::new();
    stream.read_line(&mut line).await.unwrap();
    let count: usize = line.trim_start_matches('*').trim().parse().unwrap();
    let mut keys = Vec::with_capacity(count);
    for _ in 0..count {
        line.clear();
        stream.read_line(&mut line).await.unwrap(); // $<len>
        line.clear();
        stream.read_line(&mut line).await.unwrap();
        keys.push(line.trim_end().to_owned());
    }
    keys
}
