//! `/metrics` after known traffic: counters and histograms per route pattern (never the raw
//! path), the use cases' series, the token, and text a Prometheus parser reads; and
//! `/api/v2/admin/database-status` on both databases.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::json;

use crate::{
    helpers::{ADMIN_KEY, Backend, TestApp, on_both_backends, spawn_app, spawn_app_with},
    promtool,
};

/// One line of the text format: name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Reads the text format strictly: every line a comment or a sample with quoted, escaped label
/// values (route patterns hold braces, which a sloppy parser stumbles on).
fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("no value: {line}"));
            let value: f64 = match value {
                "+Inf" => f64::INFINITY,
                value => value
                    .parse()
                    .unwrap_or_else(|_| panic!("bad value: {line}")),
            };
            let (name, labels) = match series.split_once('{') {
                None => (series, BTreeMap::new()),
                Some((name, rest)) => (
                    name,
                    parse_labels(
                        rest.strip_suffix('}')
                            .unwrap_or_else(|| panic!("unclosed labels: {line}")),
                    ),
                ),
            };
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "bad metric name: {line}"
            );
            Sample {
                name: name.to_owned(),
                labels,
                value,
            }
        })
        .collect()
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(
            chars.next(),
            Some('"'),
            "label {name} is not quoted in {text}"
        );
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(escaped) => value.push(escaped),
                    None => panic!("dangling escape in {text}"),
                },
                Some('"') => break,
                Some(c) => value.push(c),
                None => panic!("unterminated value in {text}"),
            }
        }
        labels.insert(name, value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels
}

async fn scrape(app: &TestApp) -> Vec<Sample> {
    let response = app.get("/metrics").await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(
        response
            .header("content-type")
            .is_some_and(|value| value.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        response.header("content-type")
    );
    promtool::check_metrics(&response.body);
    parse(&response.body)
}

fn matching<'a>(
    samples: &'a [Sample],
    name: &'a str,
    labels: &'a [(&str, &str)],
) -> impl Iterator<Item = &'a Sample> {
    samples.iter().filter(move |sample| {
        sample.name == name
            && labels
                .iter()
                .all(|(label, value)| sample.labels.get(*label).map(String::as_str) == Some(*value))
    })
}

/// The sum of the matching samples (zero when none).
fn counter(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    matching(samples, name, labels)
        .map(|sample| sample.value)
        .sum()
}

/// A histogram's `+Inf` bucket, which counts every observation.
fn histogram_count(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let bucket = format!("{name}_bucket");
    let mut with_le = labels.to_vec();
    with_le.push(("le", "+Inf"));
    let mut found = matching(samples, &bucket, &with_le);
    let count = found
        .next()
        .unwrap_or_else(|| panic!("no {bucket} {labels:?}"))
        .value;
    assert_eq!(
        counter(samples, &format!("{name}_count"), labels),
        count,
        "{name}_count agrees"
    );
    count
}

#[tokio::test]
async fn requests_are_counted_under_their_route_pattern_and_the_text_parses() {
    let app = spawn_app(Backend::Sqlite).await;
    let user = app.signed_up("demo", "metrics@example.com").await;
    let plant = app.add_plant(&user, "Basil", "Basilio").await;
    let plant_id = plant["id"].as_str().unwrap();
    for _ in 0..2 {
        let read = app
            .get_as(&user.access_token, &format!("/api/v2/plants/{plant_id}"))
            .await;
        assert_eq!(read.status, 200, "{}", read.body);
    }
    let missing = app
        .get_as(
            &user.access_token,
            &format!("/api/v2/plants/{}", uuid::Uuid::now_v7()),
        )
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(app.get("/no/such/route/42").await.status, 404);
    assert_eq!(app.get("/also/unknown").await.status, 404);

    let scrape = scrape(&app).await;
    let route = [("route", "/api/v2/plants/{id}"), ("method", "GET")];
    assert_eq!(
        counter(
            &scrape,
            "http_requests_total",
            &[route[0], route[1], ("status", "200")]
        ),
        2.0
    );
    assert_eq!(
        counter(
            &scrape,
            "http_requests_total",
            &[route[0], route[1], ("status", "404")]
        ),
        1.0
    );
    assert_eq!(
        counter(
            &scrape,
            "http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        2.0
    );
    assert_eq!(
        counter(
            &scrape,
            "http_requests_total",
            &[
                ("route", "/api/v2/plants"),
                ("method", "POST"),
                ("status", "201")
            ]
        ),
        1.0
    );
    let every = histogram_count(&scrape, "http_request_duration_seconds", &route);
    assert_eq!(
        every, 3.0,
        "the +Inf bucket counts every request of the route"
    );
    assert!(
        scrape.iter().all(|sample| sample
            .labels
            .get("route")
            .is_none_or(|route| !route.contains(plant_id) && !route.contains("/no/such"))),
        "a raw path never becomes a label"
    );

    let statements = histogram_count(&scrape, "db_query_duration_seconds", &[]);
    assert!(statements > 0.0, "database statements are timed");
    assert!(
        counter(
            &scrape,
            "db_pool_connections",
            &[("pool", "primary"), ("state", "max")]
        ) >= 1.0
    );
    assert_eq!(
        counter(&scrape, "feature_flag_enabled", &[("flag", "rule_engine")]),
        1.0
    );
    assert_eq!(counter(&scrape, "build_info", &[]), 1.0);
    // The scrape itself is in progress while it renders.
    assert_eq!(counter(&scrape, "http_requests_in_progress", &[]), 1.0);
    for metric in [
        "rate_limited_total",
        "sms_messages_total",
        "ai_requests_total",
        "compliance_violations_total",
        "rule_execution_duration_seconds",
    ] {
        let series = matching(&scrape, metric, &[]).count()
            + matching(&scrape, &format!("{metric}_bucket"), &[]).count();
        assert!(series > 0, "{metric} has series from the start");
    }
}

#[tokio::test]
async fn the_rule_engine_compliance_and_rate_limits_are_counted() {
    let app = spawn_app_with(Backend::Sqlite, &[("RATE_LIMIT_ENABLED", "true")]).await;
    let user = app.signed_up("demo", "counted@example.com").await;
    let garden = app
        .post_json_as(
            &user.access_token,
            "/api/v2/gardens",
            &json!({"name": "Plot", "width": 3, "length": 3}),
        )
        .await;
    assert_eq!(garden.status, 201, "{}", garden.body);
    let garden_id = garden.json()["id"].as_str().unwrap().to_owned();
    let kudzu = app.catalog_id("Kudzu").await;
    let refused = app
        .post_json_as(
            &user.access_token,
            &format!("/api/v2/gardens/{garden_id}/plantings"),
            &json!({"catalog_plant_id": kudzu, "x": 0, "y": 0}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let analysis = app
        .get_as(
            &user.access_token,
            &format!("/api/v2/gardens/{garden_id}/analysis"),
        )
        .await;
    assert_eq!(analysis.status, 200, "{}", analysis.body);
    // Logins and sign-ups: 5 per 15 minutes per address and account, so six more meet it.
    let mut refusals = 0_u32;
    for _ in 0..6 {
        if app
            .login("demo", "counted@example.com", "not the password")
            .await
            .status
            == 429
        {
            refusals += 1;
        }
    }
    assert!(refusals > 0, "the login policy refused some");

    let scrape = scrape(&app).await;
    assert_eq!(
        counter(
            &scrape,
            "compliance_violations_total",
            &[("action", "blocked")]
        ),
        1.0
    );
    assert_eq!(
        counter(
            &scrape,
            "compliance_violations_total",
            &[("action", "logged")]
        ),
        0.0
    );
    for rule in [
        "antagonistic_neighbours",
        "beneficial_neighbours",
        "shared_cell",
        "out_of_grid",
        "restricted_crop",
    ] {
        let runs = histogram_count(
            &scrape,
            "rule_execution_duration_seconds",
            &[("rule", rule)],
        );
        assert_eq!(runs, 1.0, "{rule}");
    }
    assert_eq!(
        counter(&scrape, "rate_limited_total", &[("policy", "login")]),
        f64::from(refusals)
    );
    assert_eq!(
        counter(&scrape, "rate_limited_total", &[("policy", "health")]),
        0.0
    );
    assert_eq!(
        counter(&scrape, "rate_limiter_redis_fallbacks_total", &[]),
        0.0
    );
}

#[tokio::test]
async fn metrics_ask_for_the_token_when_one_is_set() {
    let token = "a-metrics-token-of-some-length";
    let app = spawn_app_with(Backend::Sqlite, &[("METRICS_TOKEN", token)]).await;
    let anonymous = app.get("/metrics").await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    assert_eq!(anonymous.json()["code"], "ERR_AUTH_001");
    assert!(!anonymous.body.contains("http_requests_total"));
    let wrong = app
        .get_as("a-metrics-token-of-some-lengtX", "/metrics")
        .await;
    assert_eq!(wrong.status, 401);
    let right = app.get_as(token, "/metrics").await;
    assert_eq!(right.status, 200);
    assert!(right.body.contains("http_requests_total"));
}

on_both_backends! {
    async fn the_database_status_lists_migrations_pool_and_row_counts(backend: Backend) {
        let app = spawn_app(backend).await;
        app.signed_up("demo", "status@example.com").await;
        if backend == Backend::Postgres {
            app.execute_sql("ANALYZE", Vec::new()).await;
        }
        let refused = app.admin(Method::GET, Some("not-the-key"), "/api/v2/admin/database-status", None).await;
        assert_eq!(refused.status, 403);

        let status = app.admin(Method::GET, Some(ADMIN_KEY), "/api/v2/admin/database-status", None).await;
        assert_eq!(status.status, 200, "{}", status.body);
        let status = status.json();
        assert_eq!(status["backend"], if backend == Backend::Postgres { "postgres" } else { "sqlite" });
        let applied = status["migrations"]["applied"].as_array().unwrap();
        assert!(applied.iter().any(|name| name.as_str().unwrap().ends_with("_gardens")), "{applied:?}");
        assert_eq!(status["migrations"]["pending"], json!([]));
        assert!(status["pool"]["size"].as_u64().unwrap() >= 1);
        assert_eq!(status["row_counts_estimated"], backend == Backend::Postgres);
        assert!(status["tables"]["users"].as_u64().unwrap() >= 1, "{}", status["tables"]);
        assert!(status["tables"]["catalog_plants"].as_u64().unwrap() > 0);
        assert_eq!(status["replica"], json!(null));

        let audit = app.admin(Method::GET, Some(ADMIN_KEY), "/api/v2/admin/audit-log?limit=100", None).await.json();
        assert!(audit["items"].as_array().unwrap().iter().any(|entry| entry["action"] == "database_status.read"));
    }
}
