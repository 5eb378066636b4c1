//! Throwaway PostgreSQL and Redis servers for the test suite, on random loopback ports, stopped
//! (and their data removed) when dropped.

use std::{
    io::{Read as _, Write as _},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use crate::{TaskResult, run};

/// A server process started for the test run.
pub(crate) struct Service {
    name: &'static str,
    child: Child,
    data_dir: PathBuf,
    /// The URL tests connect with.
    pub(crate) url: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        // SIGTERM lets PostgreSQL shut down cleanly ("smart" shutdown waits for clients; the
        // tests are finished by now).
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
        eprintln!("xtask: stopped {}", self.name);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn free_port() -> Result<u16, std::io::Error> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn scratch_dir(name: &str) -> Result<PathBuf, std::io::Error> {
    let dir = std::env::temp_dir().join(format!("plant-texts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The tools the suite checks the deployment artefacts with: the program, the arguments that
/// make it print its version, and the Debian package that brings it.
const CHECK_TOOLS: &[(&str, &[&str], &str)] = &[
    // The metrics and alert rules (deploy/observability).
    ("promtool", &["--version"], "prometheus"),
    // deploy/nginx, with a certificate made by openssl.
    ("nginx", &["-v"], "nginx"),
    ("openssl", &["version"], "openssl"),
    // deploy/docker-compose.yml, when Docker's compose plugin is missing.
    ("docker-compose", &["version"], "docker-compose"),
    // The browser test of /docs (driven by playwright-core, installed by `ensure_playwright`).
    ("chromium", &["--version"], "chromium"),
];

/// The version of playwright-core the browser test drives Chromium with.
const PLAYWRIGHT_CORE: &str = "playwright-core@1.64.1";

/// Installs playwright-core from the npm registry under `target/e2e` when it is missing (it
/// brings no browser: the test uses Debian's Chromium). Reports and carries on on failure: the
/// browser test then skips with a printed reason.
pub(crate) fn ensure_playwright() {
    let prefix = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e");
    if prefix.join("node_modules/playwright-core").is_dir() {
        return;
    }
    let _ = std::fs::create_dir_all(&prefix);
    eprintln!("xtask: installing {PLAYWRIGHT_CORE} with npm under target/e2e");
    let installed = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(&prefix)
        .arg(PLAYWRIGHT_CORE)
        // The package brings no browser; nothing else to fetch.
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .status();
    if !installed.is_ok_and(|status| status.success()) {
        eprintln!("xtask: {PLAYWRIGHT_CORE} unavailable; the browser test will be skipped");
    }
}

/// Makes the checking tools available, installing the Debian packages of those missing in one
/// go. Where they cannot be installed their checks skip with a printed reason, so this reports
/// and carries on.
pub(crate) fn ensure_check_tools() {
    let runs = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    let compose_plugin = runs("docker", &["compose", "version"]);
    let missing: Vec<&str> = CHECK_TOOLS
        .iter()
        .filter(|(program, _, _)| !(*program == "docker-compose" && compose_plugin))
        .filter(|(program, args, _)| !runs(program, args))
        .map(|(_, _, package)| *package)
        .collect();
    if missing.is_empty() {
        return;
    }
    if let Err(error) = apt_install(&missing) {
        eprintln!(
            "xtask: {} unavailable ({error}); their checks will be skipped",
            missing.join(", ")
        );
    }
}

fn apt_install(packages: &[&str]) -> TaskResult {
    let list = packages.join(" ");
    if !is_root() {
        return Err(format!(
            "{list} not installed; install (apt-get install {list}) or set the TEST_*_URL variables"
        )
        .into());
    }
    eprintln!("xtask: installing {list} with apt-get");
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn find_postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("postgres").exists() && bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// A command run as the `postgres` user when we are root (PostgreSQL refuses to run as root).
fn as_postgres_user(program: &Path, root: bool) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Starts a throwaway PostgreSQL: initdb into a scratch directory, no fsync, trust auth on
/// loopback only.
pub(crate) fn start_postgres() -> Result<Service, Box<dyn std::error::Error>> {
    let bin = match find_postgres_bin() {
        Some(bin) => bin,
        None => {
            apt_install(&["postgresql"])?;
            find_postgres_bin().ok_or("PostgreSQL binaries not found after installing")?
        }
    };
    let root = is_root();
    let data_dir = scratch_dir("postgres")?;
    if root {
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&data_dir))?;
    }
    let pgdata = data_dir.join("data");
    run(as_postgres_user(&bin.join("initdb"), root)
        .args([
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--no-sync",
            "-D",
        ])
        .arg(&pgdata)
        .stdout(Stdio::null()))?;
    let port = free_port()?;
    let child = as_postgres_user(&bin.join("postgres"), root)
        .arg("-D")
        .arg(&pgdata)
        .args([
            "-p",
            &port.to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-k",
        ])
        .arg(&data_dir)
        .args([
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=400",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let service = Service {
        name: "PostgreSQL",
        child,
        data_dir,
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
    };
    wait_until(|| {
        Command::new(bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
            .status()
            .is_ok_and(|s| s.success())
    })?;
    eprintln!("xtask: PostgreSQL ready on 127.0.0.1:{port}");
    Ok(service)
}

/// Starts a throwaway Redis without persistence.
pub(crate) fn start_redis() -> Result<Service, Box<dyn std::error::Error>> {
    if Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        apt_install(&["redis-server"])?;
    }
    let data_dir = scratch_dir("redis")?;
    let port = free_port()?;
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(&data_dir)
        .stdout(Stdio::null())
        .spawn()?;
    let service = Service {
        name: "Redis",
        child,
        data_dir,
        url: format!("redis://127.0.0.1:{port}"),
    };
    wait_until(|| redis_answers(port))?;
    eprintln!("xtask: Redis ready on 127.0.0.1:{port}");
    Ok(service)
}

fn redis_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let mut answer = [0_u8; 5];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG"
}

fn wait_until(ready: impl Fn() -> bool) -> TaskResult {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ready() {
            return Ok(());
        }
        sleep(Duration::from_millis(100));
    }
    Err("a test service did not become ready within 30 s".into())
}
