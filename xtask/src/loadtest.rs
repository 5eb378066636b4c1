//! `cargo xtask loadtest [driver options]`: builds the server and the load-test driver in
//! release, starts a throwaway PostgreSQL (or uses LOADTEST_DATABASE_URL), starts the server on
//! a free loopback port with rate limiting off, runs `plant-texts-loadtest` against it (which
//! seeds its own data through the API and samples the server's memory), then stops both.
//! Options after `loadtest` go to the driver: `--scenario`, `--connections`, `--duration`,
//! `--users`, `--burst`, `--report` (see crates/loadtest).

use std::{
    io::{Read as _, Write as _},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command},
    thread::sleep,
    time::{Duration, Instant},
};

use crate::{TaskResult, cargo, run, services};

/// Stops the server (SIGTERM, then SIGKILL after the grace) when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn release_binary(name: &str) -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    target.join("release").join(name)
}

/// Whether `GET path` on the loopback port answers 200.
fn answers_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    if stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .is_err()
    {
        return false;
    }
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b"200")
}

pub(crate) fn loadtest(driver_args: &[String]) -> TaskResult {
    run(cargo().args([
        "build",
        "--release",
        "--package",
        "plant-texts-server",
        "--package",
        "plant-texts-loadtest",
    ]))?;
    let mut _postgres = None;
    let database_url = if let Ok(url) = std::env::var("LOADTEST_DATABASE_URL") {
        url
    } else {
        let service = services::start_postgres()?;
        let url = service.url.clone();
        _postgres = Some(service);
        url
    };
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    std::fs::create_dir_all("target/loadtest")?;
    let log = std::fs::File::create("target/loadtest/server.log")?;
    let errors = log.try_clone()?;
    let mut server = Server(
        Command::new(release_binary("plant-texts"))
            .env("APP_ENV", "development")
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("DATABASE_URL", &database_url)
            .env("SECRET_KEY", "loadtest-signing-key-0123456789abcdefghijkl")
            .env("RATE_LIMIT_ENABLED", "false")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env_remove("REDIS_URL")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("OPENAI_API_KEY")
            .stdout(log)
            .stderr(errors)
            .spawn()?,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !answers_ok(port, "/health/ready") {
        if let Ok(Some(status)) = server.0.try_wait() {
            return Err(
                format!("the server exited ({status}); see target/loadtest/server.log").into(),
            );
        }
        if Instant::now() > deadline {
            return Err("the server did not become ready (see target/loadtest/server.log)".into());
        }
        sleep(Duration::from_millis(100));
    }
    eprintln!("xtask: server ready on 127.0.0.1:{port} (log: target/loadtest/server.log)");
    let outcome = run(Command::new(release_binary("plant-texts-loadtest"))
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .args(["--pid", &server.0.id().to_string()])
        .args(driver_args));
    drop(server);
    outcome
}
