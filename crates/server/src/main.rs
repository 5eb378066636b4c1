//! `plant-texts`: the Plant Texts API server; `plant-texts migrate` applies the pending
//! migrations and exits; `plant-texts doctor` checks the configuration and every dependency.

use std::process::ExitCode;

use plant_texts_server::{
    config::{EXIT_CONFIG, Settings},
    doctor,
    startup::{self, Application, shutdown_signal},
    telemetry,
};

/// The request path allocates and frees many small objects on every actix worker; mimalloc's
/// per-thread free lists cost a fraction of glibc's arenas there (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("doctor") {
        return doctor();
    }
    // A bad configuration stops the process before anything is bound, listing every problem.
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(problems) => {
            eprint!("{problems}");
            return ExitCode::from(u8::try_from(EXIT_CONFIG).unwrap_or(1));
        }
    };
    let Some(runtime) = runtime(tokio::runtime::Builder::new_multi_thread()) else {
        return ExitCode::FAILURE;
    };
    // The gRPC exporter starts its connection on the runtime it is built in.
    let telemetry = {
        let _runtime = runtime.enter();
        telemetry::init(&settings)
    };
    if settings.secrets.secret_key_generated {
        tracing::warn!(
            "SECRET_KEY is not set: using a random key for this run; tokens will not survive a restart"
        );
    }

    let code = match std::env::args().nth(1).as_deref() {
        None => runtime.block_on(serve(&settings)),
        Some("migrate") => runtime.block_on(async {
            match startup::migrate(&settings).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(error = %error, "migration failed");
                    eprintln!("migration failed: {error}");
                    ExitCode::FAILURE
                }
            }
        }),
        Some(_) => {
            eprintln!("usage: plant-texts [migrate | doctor]");
            ExitCode::from(2)
        }
    };
    // Spans still buffered leave before the process does; the runtime (which the gRPC
    // exporter runs on) is still alive here.
    telemetry.shutdown();
    code
}

/// Serves until SIGTERM or Ctrl-C.
async fn serve(settings: &Settings) -> ExitCode {
    let application = match Application::build(settings).await {
        Ok(application) => application,
        Err(error) => {
            tracing::error!(error = %error, "startup failed");
            eprintln!("startup failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    match application.run_until_stopped(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// Prints the doctor's table (no logging: the table is the output); 1 when a check fails.
fn doctor() -> ExitCode {
    let Some(runtime) = runtime(tokio::runtime::Builder::new_current_thread()) else {
        return ExitCode::FAILURE;
    };
    let findings = runtime.block_on(doctor::diagnose());
    print!("{}", doctor::render(&findings));
    if findings.iter().all(|finding| finding.healthy) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The runtime `builder` makes, with I/O and timers; `None`, said on stderr, when it cannot.
fn runtime(mut builder: tokio::runtime::Builder) -> Option<tokio::runtime::Runtime> {
    builder
        .enable_all()
        .build()
        .inspect_err(|error| eprintln!("cannot start the async runtime: {error}"))
        .ok()
}
