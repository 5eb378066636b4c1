//! The deployment artefacts, each checked by its own tool: the backup scripts round-trip a
//! populated PostgreSQL database and refuse a damaged file; nginx accepts its configuration with a
//! test certificate; compose accepts the compose file; the Kubernetes manifests parse and probe
//! routes that answer. `cargo xtask test` installs nginx and docker-compose when they are
//! missing; where a tool cannot be installed its check is skipped with a printed reason.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use migration::sea_orm::{ConnectionTrait, Statement};
use serde::Deserialize as _;
use serde_json::json;

use crate::helpers::{Backend, TestApp, TestDatabase, connect, spawn_app};

fn deploy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn scratch_dir(purpose: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "plant-texts-{purpose}-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Whether `program` runs; prints why a check is skipped when it does not.
fn tool(program: &str, version_args: &[&str]) -> bool {
    let runs = Command::new(program)
        .args(version_args)
        .output()
        .is_ok_and(|output| output.status.success());
    if !runs {
        eprintln!("SKIPPED: {program} is not installed (cargo xtask test installs it as root)");
    }
    runs
}

fn script(name: &str, database_url: &str, backup_dir: &Path, args: &[&str]) -> Output {
    Command::new(deploy_dir().join("scripts").join(name))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("BACKUP_DIR", backup_dir)
        .stdin(Stdio::null())
        .output()
        .expect("the script runs")
}

/// The path a successful backup printed as its last line.
fn backed_up(database_url: &str, backup_dir: &Path) -> PathBuf {
    let output = script("backup-db.sh", database_url, backup_dir, &[]);
    assert!(
        output.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let path = PathBuf::from(stdout.lines().last().expect("a last line"));
    assert!(path.is_file(), "{} is the new backup", path.display());
    path
}

/// Every table of the database's `public` schema with its row count.
async fn row_counts(database_url: &str) -> BTreeMap<String, i64> {
    let db = connect(database_url).await;
    let backend = db.get_database_backend();
    let tables = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        ))
        .await
        .unwrap();
    let mut counts = BTreeMap::new();
    for table in tables {
        let name: String = table.try_get("", "name").unwrap();
        let count = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT count(*) AS n FROM \"{name}\""),
            ))
            .await
            .unwrap()
            .unwrap();
        counts.insert(name, count.try_get::<i64>("", "n").unwrap());
    }
    db.close().await.unwrap();
    counts
}

/// An application on PostgreSQL with accounts, plants and a conversation in it.
async fn populated_app() -> TestApp {
    let app = spawn_app(Backend::Postgres).await;
    let basil = app.catalog_id("Basil").await;
    for grower in ["one@example.com", "two@example.com"] {
        let user = app.signed_up("demo", grower).await;
        for nickname in ["Fern", "Sprout"] {
            let created = app
                .post_json_as(
                    &user.access_token,
                    "/api/v2/plants",
                    &json!({"catalog_plant_id": basil, "nickname": nickname}),
                )
                .await;
            assert_eq!(created.status, 201, "{}", created.body);
            let plant = created.json()["id"].as_str().unwrap().to_owned();
            let chat = app
                .post_json_as(
                    &user.access_token,
                    &format!("/api/v2/plants/{plant}/chat"),
                    &json!({"message": "How are you?"}),
                )
                .await;
            assert_eq!(chat.status, 200, "{}", chat.body);
        }
    }
    app
}

#[tokio::test]
async fn a_postgres_backup_restores_into_a_scratch_database_with_every_row_count_equal() {
    let app = populated_app().await;
    let backups = scratch_dir("backups");

    let backup = backed_up(&app.database.url, &backups);
    let scratch = TestDatabase::empty(Backend::Postgres).await;
    let restored = script(
        "restore-db.sh",
        &scratch.url,
        &backups,
        &["--yes", backup.to_str().unwrap()],
    );
    assert!(
        restored.status.success(),
        "restore failed: {}",
        String::from_utf8_lossy(&restored.stderr)
    );

    let original = row_counts(&app.database.url).await;
    assert!(original["users"] >= 2 && original["user_plants"] >= 4 && original["messages"] >= 8);
    assert_eq!(row_counts(&scratch.url).await, original);
    let _ = std::fs::remove_dir_all(&backups);
}

#[tokio::test]
async fn a_truncated_or_corrupt_backup_is_refused_and_the_target_left_alone() {
    let app = populated_app().await;
    let backups = scratch_dir("backups");
    let backup = backed_up(&app.database.url, &backups);
    let bytes = std::fs::read(&backup).unwrap();
    let truncated = backups.join("truncated.dump.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let not_a_dump = backups.join("not-a-dump.dump.gz");
    let gzip = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo 'SELECT 1;' | gzip -c > '{}'",
            not_a_dump.display()
        ))
        .status()
        .unwrap();
    assert!(gzip.success());
    let missing = backups.join("missing.dump.gz");
    let scratch = TestDatabase::empty(Backend::Postgres).await;

    for (file, reason) in [
        (&truncated, "not a complete gzip file"),
        (&not_a_dump, "pg_restore cannot read the dump"),
        (&missing, "does not exist"),
    ] {
        let refused = script(
            "restore-db.sh",
            &scratch.url,
            &backups,
            &["--yes", file.to_str().unwrap()],
        );
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{} was restored", file.display());
        assert!(stderr.contains(reason), "{}: {stderr}", file.display());
    }
    assert!(
        row_counts(&scratch.url).await.is_empty(),
        "nothing reached the target"
    );
    let _ = std::fs::remove_dir_all(&backups);
}

#[tokio::test]
async fn a_restore_without_yes_and_without_a_terminal_is_refused() {
    let app = spawn_app(Backend::Postgres).await;
    let backups = scratch_dir("backups");
    let backup = backed_up(&app.database.url, &backups);
    let scratch = TestDatabase::empty(Backend::Postgres).await;

    let refused = script(
        "restore-db.sh",
        &scratch.url,
        &backups,
        &[backup.to_str().unwrap()],
    );

    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("without confirmation"));
    assert!(row_counts(&scratch.url).await.is_empty());
    let _ = std::fs::remove_dir_all(&backups);
}

#[test]
fn the_backup_script_refuses_a_database_that_is_not_postgres_and_leaves_no_file() {
    let backups = scratch_dir("backups");
    let output = script("backup-db.sh", "sqlite://plant-texts.db", &backups, &[]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("must be a PostgreSQL URL"));
    assert_eq!(
        std::fs::read_dir(&backups)
            .map(Iterator::count)
            .unwrap_or(0),
        0
    );
    let _ = std::fs::remove_dir_all(&backups);
}

#[tokio::test]
async fn a_backup_whose_dump_fails_exits_non_zero_and_leaves_no_file_behind() {
    let app = spawn_app(Backend::Postgres).await;
    let backups = scratch_dir("backups");
    // The server answers, the database does not exist: pg_dump fails after the file was opened.
    let missing_database = app
        .database
        .url
        .rsplit_once('/')
        .map(|(server, _)| format!("{server}/plant_texts_no_such_database"))
        .unwrap();

    let output = script("backup-db.sh", &missing_database, &backups, &[]);

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("pg_dump failed"));
    let left: Vec<_> = std::fs::read_dir(&backups).unwrap().collect();
    assert!(left.is_empty(), "partial files left: {left:?}");
    let _ = std::fs::remove_dir_all(&backups);
}

#[test]
fn the_nginx_configuration_passes_nginx_t_with_a_test_certificate_and_matches_the_apps_limits() {
    let site = std::fs::read_to_string(deploy_dir().join("nginx/plant-texts.conf")).unwrap();
    // The service's own limits (MAX_BODY_BYTES 65536, REQUEST_TIMEOUT_SECS 30): nginx lets
    // through what the service accepts and waits longer than the service answers.
    assert!(site.contains("client_max_body_size 64k;"));
    assert!(site.contains("proxy_read_timeout 35s;"));
    assert!(
        site.contains("Strict-Transport-Security \"max-age=31536000; includeSubDomains\" always")
    );
    assert!(site.contains("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"));
    assert!(site.contains("return 308 https://$host$request_uri;"));
    if !tool("nginx", &["-v"]) || !tool("openssl", &["version"]) {
        return;
    }
    let dir = scratch_dir("nginx");
    let certificate = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=api.example.com"])
        .arg("-keyout")
        .arg(dir.join("privkey.pem"))
        .arg("-out")
        .arg(dir.join("fullchain.pem"))
        .output()
        .unwrap();
    assert!(certificate.status.success(), "{certificate:?}");
    let site = site.replace(
        "/etc/letsencrypt/live/api.example.com/",
        &format!("{}/", dir.display()),
    );
    std::fs::write(dir.join("plant-texts.conf"), site).unwrap();
    let scratch = dir.display();
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "pid {scratch}/nginx.pid;\nerror_log {scratch}/error.log;\nevents {{}}\nhttp {{\n\
             access_log {scratch}/access.log;\nclient_body_temp_path {scratch}/body;\n\
             proxy_temp_path {scratch}/proxy;\nfastcgi_temp_path {scratch}/fastcgi;\n\
             uwsgi_temp_path {scratch}/uwsgi;\nscgi_temp_path {scratch}/scgi;\n\
             include {scratch}/plant-texts.conf;\n}}\n"
        ),
    )
    .unwrap();

    let checked = Command::new("nginx")
        .arg("-t")
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        checked.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// The compose file after `docker compose config` (or docker-compose v1, where the plugin is
/// missing) has resolved it, run on a copy of `deploy/` with an `.env` made from the example.
fn resolved_compose_file() -> Option<serde_yaml::Value> {
    let copy = scratch_dir("compose");
    let deploy = copy.join("deploy");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(deploy_dir())
        .arg(&deploy)
        .status()
        .unwrap();
    assert!(copied.success());
    let example = std::fs::read_to_string(deploy.join(".env.example")).unwrap();
    let env = example
        .replace(
            "POSTGRES_PASSWORD=\n",
            "POSTGRES_PASSWORD=compose-check-db\n",
        )
        .replace(
            "GRAFANA_ADMIN_PASSWORD=\n",
            "GRAFANA_ADMIN_PASSWORD=compose-check-grafana\n",
        );
    std::fs::write(deploy.join(".env"), env).unwrap();
    std::fs::write(
        deploy.join("metrics_token"),
        "compose-check-metrics-token\n",
    )
    .unwrap();

    let plugin = Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|output| output.status.success());
    let mut command = if plugin {
        let mut command = Command::new("docker");
        command.arg("compose");
        command
    } else if tool("docker-compose", &["version"]) {
        Command::new("docker-compose")
    } else {
        let _ = std::fs::remove_dir_all(&copy);
        return None;
    };
    let output = command
        .arg("--project-directory")
        .arg(&deploy)
        .arg("-f")
        .arg(deploy.join("docker-compose.yml"))
        .arg("config")
        .current_dir(&deploy)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&copy);
    assert!(
        output.status.success(),
        "compose config refused the file: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_yaml::from_slice(&output.stdout).expect("compose prints YAML"))
}

#[test]
fn the_compose_file_validates_and_starts_the_app_after_its_dependencies_are_healthy() {
    let Some(compose) = resolved_compose_file() else {
        return;
    };
    let services = compose["services"].as_mapping().expect("services");
    let names: Vec<&str> = services.keys().filter_map(|name| name.as_str()).collect();
    for expected in [
        "app",
        "migrate",
        "postgres",
        "redis",
        "otel-collector",
        "jaeger",
        "prometheus",
        "grafana",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    for (name, service) in services {
        let disabled = service["healthcheck"]["disable"].as_bool() == Some(true);
        let one_shot = name.as_str() == Some("migrate");
        assert!(
            service["healthcheck"]["test"].is_sequence() || (one_shot && disabled),
            "{name:?} has a health check"
        );
    }
    let app = &compose["services"]["app"];
    assert_eq!(app["environment"]["AUTO_MIGRATE"].as_str(), Some("false"));
    assert!(
        app["environment"]["GRAFANA_ADMIN_PASSWORD"].is_null(),
        "the app is given its own settings only"
    );
    assert!(
        app["environment"]["DATABASE_URL"]
            .as_str()
            .is_some_and(|url| url.contains("compose-check-db@postgres:5432"))
    );
    for (dependency, condition) in [
        ("postgres", "service_healthy"),
        ("redis", "service_healthy"),
        ("migrate", "service_completed_successfully"),
    ] {
        assert_eq!(
            app["depends_on"][dependency]["condition"].as_str(),
            Some(condition),
            "app waits for {dependency}"
        );
    }
    assert_eq!(
        compose["services"]["migrate"]["command"][0].as_str(),
        Some("migrate")
    );
}

/// Every document of every manifest in `deploy/k8s`.
fn kubernetes_documents() -> Vec<serde_yaml::Value> {
    let mut documents = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy_dir().join("k8s"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for document in serde_yaml::Deserializer::from_str(&text) {
            let value = serde_yaml::Value::deserialize(document)
                .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
            for field in ["apiVersion", "kind"] {
                assert!(value[field].is_string(), "{}: {field}", file.display());
            }
            assert!(
                value["metadata"]["name"].is_string(),
                "{}: metadata.name",
                file.display()
            );
            documents.push(value);
        }
    }
    documents
}

#[tokio::test]
async fn the_kubernetes_manifests_parse_and_their_probes_point_at_routes_that_answer() {
    let documents = kubernetes_documents();
    let kinds: Vec<&str> = documents
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    for kind in [
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ConfigMap",
        "Secret",
        "Job",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let deployment = documents
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    // The image runs as the user the pod asks for, and its own health check probes a route.
    let dockerfile = std::fs::read_to_string(deploy_dir().join("Dockerfile")).unwrap();
    let uid = pod["securityContext"]["runAsUser"].as_u64().unwrap();
    assert!(
        dockerfile.contains(&format!("USER {uid}:{uid}")),
        "the image runs as {uid}"
    );
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("/health/live"));
    assert_eq!(container["ports"][0]["containerPort"].as_u64(), Some(8080));

    let app = spawn_app(Backend::Sqlite).await;
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        let path = container[probe]["httpGet"]["path"]
            .as_str()
            .unwrap_or_else(|| panic!("{probe} has an HTTP path"));
        assert_eq!(app.get(path).await.status, 200, "{probe} {path}");
    }
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/health/ready"),
        "readiness is the probe that turns 503 at shutdown"
    );

    // The pod is given the preStop delay, the readiness grace and the drain before SIGKILL.
    let env: BTreeMap<&str, &str> = container["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|var| Some((var["name"].as_str()?, var["value"].as_str()?)))
        .collect();
    let seconds = |name: &str| -> u64 { env[name].parse().expect("whole seconds") };
    let pre_stop: u64 = container["lifecycle"]["preStop"]["exec"]["command"][1]
        .as_str()
        .and_then(|seconds| seconds.parse().ok())
        .expect("preStop sleeps");
    let given = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        given > pre_stop + seconds("SHUTDOWN_GRACE_SECS") + seconds("SHUTDOWN_TIMEOUT_SECS"),
        "terminationGracePeriodSeconds {given} covers preStop, grace and drain"
    );
    assert_eq!(env["AUTO_MIGRATE"], "false");

    let job = documents.iter().find(|d| d["kind"] == "Job").unwrap();
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["args"][0].as_str(),
        Some("migrate")
    );
}
