//! The scenarios, and the accounts, plants and gardens they need, created through the API.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    Options,
    stats::{LiveCounters, Outcome, Recorder},
};

/// The password every load-test account gets.
const PASSWORD: &str = "Load test password 9";

/// Accounts the mixed and burst scenarios seed for themselves.
const SEEDED_ACCOUNTS: usize = 20;

/// Plants each account adds.
const PLANTS_PER_ACCOUNT: usize = 3;

/// Active plantings in each seeded garden.
const PLANTINGS_PER_GARDEN: i64 = 10;

/// A signed-up user and what it owns.
#[derive(Debug, Clone)]
struct Account {
    email: String,
    token: String,
    plants: Vec<String>,
    garden: Option<String>,
}

/// One HTTP connection's worth of client, recording every request.
struct Session {
    client: Client,
    base: String,
    recorder: Recorder,
}

impl Session {
    fn new(base: &str, live: LiveCounters) -> Result<Self, String> {
        let client = Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            base: base.to_owned(),
            recorder: Recorder::new(live),
        })
    }

    /// Sends one request and records it under `endpoint`; the body when the status was
    /// `expected`.
    async fn call(
        &mut self,
        endpoint: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        expected: StatusCode,
    ) -> Option<Value> {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let started = Instant::now();
        let answer = request.send().await;
        let (outcome, body) = match answer {
            Ok(response) => {
                let status = response.status();
                let body = response.bytes().await.ok();
                if status == expected {
                    (Outcome::Ok, body)
                } else if status == StatusCode::TOO_MANY_REQUESTS
                    || status == StatusCode::SERVICE_UNAVAILABLE
                {
                    (Outcome::Refused, None)
                } else {
                    (Outcome::Error, None)
                }
            }
            Err(_) => (Outcome::Error, None),
        };
        self.recorder.record(endpoint, started.elapsed(), outcome);
        body.and_then(|bytes| serde_json::from_slice(&bytes).ok())
    }
}

/// The resident memory of process `pid` in MiB, from /proc (Linux).
#[must_use]
pub fn resident_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Prints a progress line every second and samples the server's memory until dropped.
struct Progress {
    task: tokio::task::JoinHandle<()>,
    peak_rss_mib: Arc<AtomicU64>,
}

impl Progress {
    fn start(name: &'static str, live: &LiveCounters, pid: Option<u32>) -> Self {
        let live = live.clone();
        let peak_rss_mib = Arc::new(AtomicU64::new(0));
        let peak = peak_rss_mib.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let mut ticks = tokio::time::interval(Duration::from_millis(100));
            let mut last_print = Instant::now();
            loop {
                ticks.tick().await;
                if let Some(rss) = pid.and_then(resident_mib) {
                    #[expect(
                        clippy::cast_possible_truncation,
                        clippy::cast_sign_loss,
                        reason = "MiB of one process"
                    )]
                    peak.fetch_max((rss * 1024.0) as u64, Ordering::Relaxed);
                }
                if last_print.elapsed() >= Duration::from_secs(1) {
                    last_print = Instant::now();
                    let requests = live.requests.load(Ordering::Relaxed);
                    let seconds = started.elapsed().as_secs_f64();
                    #[expect(
                        clippy::cast_precision_loss,
                        reason = "request counts are far below 2^52"
                    )]
                    let rate = requests as f64 / seconds;
                    eprint!(
                        "\r{name}: {seconds:>5.0} s  {requests:>9} requests  {rate:>9.1} req/s  {} errors   ",
                        live.errors.load(Ordering::Relaxed)
                    );
                }
            }
        });
        Self { task, peak_rss_mib }
    }

    /// Stops, and the server's peak resident memory seen (MiB), if sampled.
    fn finish(self) -> Option<f64> {
        self.task.abort();
        eprintln!();
        let kib = self.peak_rss_mib.load(Ordering::Relaxed);
        #[expect(clippy::cast_precision_loss, reason = "KiB of one process")]
        (kib > 0).then_some(kib as f64 / 1024.0)
    }
}

/// Registers, logs in and adds plants (and a garden with active plantings when `garden`),
/// recording into `session`.
async fn sign_up(
    session: &mut Session,
    tenant: &str,
    email: String,
    species: &[String],
    garden: bool,
) -> Option<Account> {
    let registration =
        json!({"tenant": tenant, "email": email, "password": PASSWORD, "full_name": "Load Test"});
    session
        .call(
            "auth_register",
            Method::POST,
            "/api/v2/auth/register",
            None,
            Some(&registration),
            StatusCode::CREATED,
        )
        .await?;
    let token = log_in(session, tenant, &email).await?;
    let mut plants = Vec::with_capacity(PLANTS_PER_ACCOUNT);
    for (n, catalog_plant_id) in species.iter().cycle().take(PLANTS_PER_ACCOUNT).enumerate() {
        let plant = json!({"catalog_plant_id": catalog_plant_id, "nickname": format!("Plant {n}")});
        let created = session
            .call(
                "plants_add",
                Method::POST,
                "/api/v2/plants",
                Some(&token),
                Some(&plant),
                StatusCode::CREATED,
            )
            .await?;
        plants.push(created["id"].as_str()?.to_owned());
    }
    session
        .call(
            "plants_list",
            Method::GET,
            "/api/v2/plants",
            Some(&token),
            None,
            StatusCode::OK,
        )
        .await?;
    let garden = if garden {
        Some(plant_garden(session, &token, species.first()?).await?)
    } else {
        None
    };
    Some(Account {
        email,
        token,
        plants,
        garden,
    })
}

async fn log_in(session: &mut Session, tenant: &str, email: &str) -> Option<String> {
    let login = json!({"tenant": tenant, "email": email, "password": PASSWORD});
    let session_document = session
        .call(
            "auth_login",
            Method::POST,
            "/api/v2/auth/login",
            None,
            Some(&login),
            StatusCode::OK,
        )
        .await?;
    Some(session_document["access_token"].as_str()?.to_owned())
}

/// A garden with [`PLANTINGS_PER_GARDEN`] active plantings of one species, two cells apart.
async fn plant_garden(session: &mut Session, token: &str, species: &str) -> Option<String> {
    let garden = json!({"name": "Load test bed", "width": 40, "length": 40});
    let created = session
        .call(
            "gardens_create",
            Method::POST,
            "/api/v2/gardens",
            Some(token),
            Some(&garden),
            StatusCode::CREATED,
        )
        .await?;
    let id = created["id"].as_str()?.to_owned();
    for n in 0..PLANTINGS_PER_GARDEN {
        let planting = json!({"catalog_plant_id": species, "x": n * 2, "y": 0, "status": "active", "planted_on": "2026-11-01"});
        session
            .call(
                "plantings_create",
                Method::POST,
                &format!("/api/v2/gardens/{id}/plantings"),
                Some(token),
                Some(&planting),
                StatusCode::CREATED,
            )
            .await?;
    }
    Some(id)
}

/// Species anyone may grow, from the public catalog.
async fn unrestricted_species(base: &str) -> Result<Vec<String>, String> {
    let page: Value = Client::new()
        .get(format!("{base}/api/v2/catalog?limit=100"))
        .send()
        .await
        .map_err(|e| format!("the catalog could not be read: {e}"))?
        .json()
        .await
        .map_err(|e| format!("the catalog answer is not JSON: {e}"))?;
    let species: Vec<String> = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["restricted"] == false)
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect();
    if species.is_empty() {
        return Err(
            "the catalog has no unrestricted species (is the reference data seeded?)".to_owned(),
        );
    }
    Ok(species)
}

/// A prefix that keeps this run's accounts apart from earlier runs' on the same database.
fn run_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("lt{nanos:x}")
}

/// Signs up `count` users at once, each with plants (and a garden when `gardens`).
async fn sign_up_many(
    options: &Options,
    live: &LiveCounters,
    count: usize,
    gardens: bool,
) -> Result<(Vec<Account>, Recorder), String> {
    let species = Arc::new(unrestricted_species(&options.url).await?);
    let tag = run_tag();
    let mut workers = Vec::with_capacity(count);
    for n in 0..count {
        let mut session = Session::new(&options.url, live.clone())?;
        let species = species.clone();
        let tenant = options.tenant.clone();
        let email = format!("{tag}-{n}@loadtest.example.com");
        workers.push(tokio::spawn(async move {
            let account = sign_up(&mut session, &tenant, email, &species, gardens).await;
            (account, session.recorder)
        }));
    }
    let mut accounts = Vec::with_capacity(count);
    let mut recorder = Recorder::default();
    for worker in workers {
        let (account, worker_recorder) = worker.await.map_err(|e| e.to_string())?;
        accounts.extend(account);
        recorder.merge(worker_recorder);
    }
    Ok((accounts, recorder))
}

/// Waits for every worker and merges their measurements.
async fn gather(workers: Vec<tokio::task::JoinHandle<Recorder>>) -> Result<Recorder, String> {
    let mut recorder = Recorder::default();
    for worker in workers {
        recorder.merge(worker.await.map_err(|e| e.to_string())?);
    }
    Ok(recorder)
}

/// The scenario's summary since `started`, with the server's peak memory.
fn summarise(recorder: Recorder, started: Instant, progress: Progress) -> Value {
    let elapsed = started.elapsed();
    let mut summary = recorder.summary(elapsed);
    summary["peak_rss_mib"] = json!(progress.finish());
    summary
}

/// `--users` users sign up at once; each logs in, adds plants and lists them.
///
/// # Errors
/// When the catalog cannot be read or a worker panics.
pub async fn signup(options: &Options) -> Result<Value, String> {
    let live = LiveCounters::default();
    let progress = Progress::start("signup", &live, options.pid);
    let started = Instant::now();
    let (_accounts, recorder) = sign_up_many(options, &live, options.users, false).await?;
    Ok(summarise(recorder, started, progress))
}

/// `--connections` connections for `--duration`, each cycling through catalog reads, plant
/// lists, chats, a garden's active plantings and the odd login, as seeded accounts.
///
/// # Errors
/// When seeding fails.
pub async fn mixed(options: &Options) -> Result<Value, String> {
    eprintln!("mixed: seeding {SEEDED_ACCOUNTS} accounts with plants and gardens through the API");
    let (accounts, _) =
        sign_up_many(options, &LiveCounters::default(), SEEDED_ACCOUNTS, true).await?;
    if accounts.len() < SEEDED_ACCOUNTS {
        return Err(format!(
            "only {} of {SEEDED_ACCOUNTS} accounts could be seeded",
            accounts.len()
        ));
    }
    let accounts = Arc::new(accounts);
    let live = LiveCounters::default();
    let progress = Progress::start("mixed", &live, options.pid);
    let started = Instant::now();
    let deadline = started + options.duration;
    let mut workers = Vec::with_capacity(options.connections);
    for n in 0..options.connections {
        let mut session = Session::new(&options.url, live.clone())?;
        let accounts = accounts.clone();
        let tenant = options.tenant.clone();
        workers.push(tokio::spawn(async move {
            let account = &accounts[n % accounts.len()];
            let chat = json!({"message": "Hello! Do you need some water today?"});
            let mut step = n;
            while Instant::now() < deadline {
                step += 1;
                let plant = &account.plants[step % account.plants.len()];
                // 20 steps: 6 catalog, 6 plant lists, 4 chats, 3 plantings, 1 login.
                match step % 20 {
                    0..=5 => {
                        session
                            .call(
                                "catalog",
                                Method::GET,
                                "/api/v2/catalog",
                                None,
                                None,
                                StatusCode::OK,
                            )
                            .await;
                    }
                    6..=11 => {
                        session
                            .call(
                                "plants_list",
                                Method::GET,
                                "/api/v2/plants",
                                Some(&account.token),
                                None,
                                StatusCode::OK,
                            )
                            .await;
                    }
                    12..=15 => {
                        session
                            .call(
                                "plant_chat",
                                Method::POST,
                                &format!("/api/v2/plants/{plant}/chat"),
                                Some(&account.token),
                                Some(&chat),
                                StatusCode::OK,
                            )
                            .await;
                    }
                    16..=18 => {
                        let garden = account.garden.as_deref().unwrap_or_default();
                        session
                            .call(
                                "garden_plantings",
                                Method::GET,
                                &format!("/api/v2/gardens/{garden}/plantings?status=active"),
                                Some(&account.token),
                                None,
                                StatusCode::OK,
                            )
                            .await;
                    }
                    _ => {
                        log_in(&mut session, &tenant, &account.email).await;
                    }
                }
            }
            session.recorder
        }));
    }
    Ok(summarise(gather(workers).await?, started, progress))
}

/// `--burst` logins sent at once to seeded accounts.
///
/// # Errors
/// When seeding fails.
pub async fn login_burst(options: &Options) -> Result<Value, String> {
    let (accounts, _) =
        sign_up_many(options, &LiveCounters::default(), SEEDED_ACCOUNTS, false).await?;
    let accounts = Arc::new(accounts);
    if accounts.is_empty() {
        return Err("no account could be seeded".to_owned());
    }
    let live = LiveCounters::default();
    let progress = Progress::start("login-burst", &live, options.pid);
    let started = Instant::now();
    let mut workers = Vec::with_capacity(options.burst);
    for n in 0..options.burst {
        let mut session = Session::new(&options.url, live.clone())?;
        let accounts = accounts.clone();
        let tenant = options.tenant.clone();
        workers.push(tokio::spawn(async move {
            log_in(&mut session, &tenant, &accounts[n % accounts.len()].email).await;
            session.recorder
        }));
    }
    Ok(summarise(gather(workers).await?, started, progress))
}
