//! What a scenario measured: per endpoint, every latency and how each request ended.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The expected status.
    Ok,
    /// 429 or 503: the service said "not now", as it should under overload.
    Refused,
    /// Anything else, or no answer at all.
    Error,
}

/// One endpoint's measurements. Latencies are those of the answers with the expected status
/// only: a fast 503 under overload would otherwise flatter the percentiles.
#[derive(Debug, Default, Clone)]
pub struct EndpointStats {
    latencies_us: Vec<u64>,
    ok: u64,
    refused: u64,
    errors: u64,
}

impl EndpointStats {
    fn merge(&mut self, other: Self) {
        self.latencies_us.extend(other.latencies_us);
        self.ok += other.ok;
        self.refused += other.refused;
        self.errors += other.errors;
    }

    fn percentile_ms(sorted_us: &[u64], fraction: f64) -> f64 {
        if sorted_us.is_empty() {
            return 0.0;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "an index into a list far shorter than 2^52"
        )]
        let rank = ((sorted_us.len() as f64 * fraction).ceil() as usize).clamp(1, sorted_us.len());
        micros_to_ms(sorted_us[rank - 1])
    }
}

#[expect(
    clippy::cast_precision_loss,
    reason = "latencies are far below 2^52 µs"
)]
fn micros_to_ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// Counters every worker bumps, read by the progress line.
#[derive(Debug, Default, Clone)]
pub struct LiveCounters {
    /// Requests answered (whatever the outcome).
    pub requests: Arc<AtomicU64>,
    /// Requests that ended in [`Outcome::Error`].
    pub errors: Arc<AtomicU64>,
}

/// A worker's measurements, merged with the others' at the end.
#[derive(Debug, Default)]
pub struct Recorder {
    endpoints: BTreeMap<&'static str, EndpointStats>,
    live: LiveCounters,
}

impl Recorder {
    /// A recorder that also bumps `live`.
    #[must_use]
    pub fn new(live: LiveCounters) -> Self {
        Self {
            endpoints: BTreeMap::new(),
            live,
        }
    }

    /// Records one request to `endpoint`.
    pub fn record(&mut self, endpoint: &'static str, latency: Duration, outcome: Outcome) {
        let stats = self.endpoints.entry(endpoint).or_default();
        self.live.requests.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Outcome::Ok => {
                stats.ok += 1;
                stats
                    .latencies_us
                    .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
            }
            Outcome::Refused => stats.refused += 1,
            Outcome::Error => {
                stats.errors += 1;
                self.live.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Adds `other`'s measurements to these.
    pub fn merge(&mut self, other: Self) {
        for (endpoint, stats) in other.endpoints {
            self.endpoints.entry(endpoint).or_default().merge(stats);
        }
    }

    /// The table printed and the JSON written, per endpoint over `elapsed`: every answer per
    /// second, the expected ones per second, and p50/p95/p99 of the expected ones.
    #[must_use]
    pub fn summary(mut self, elapsed: Duration) -> Value {
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        let mut endpoints = serde_json::Map::new();
        let mut total = EndpointStats::default();
        for (endpoint, stats) in &mut self.endpoints {
            stats.latencies_us.sort_unstable();
            endpoints.insert((*endpoint).to_owned(), Self::row(stats, seconds));
            total.merge(stats.clone());
        }
        total.latencies_us.sort_unstable();
        json!({
            "elapsed_s": seconds,
            "endpoints": endpoints,
            "total": Self::row(&total, seconds),
        })
    }

    #[expect(
        clippy::cast_precision_loss,
        reason = "request counts are far below 2^52"
    )]
    fn row(stats: &EndpointStats, seconds: f64) -> Value {
        let answered = stats.ok + stats.refused + stats.errors;
        json!({
            "requests": answered,
            "ok": stats.ok,
            "refused": stats.refused,
            "errors": stats.errors,
            "req_per_s": answered as f64 / seconds,
            "ok_per_s": stats.ok as f64 / seconds,
            "p50_ms": EndpointStats::percentile_ms(&stats.latencies_us, 0.50),
            "p95_ms": EndpointStats::percentile_ms(&stats.latencies_us, 0.95),
            "p99_ms": EndpointStats::percentile_ms(&stats.latencies_us, 0.99),
            "max_ms": stats.latencies_us.last().copied().map_or(0.0, micros_to_ms),
        })
    }
}

/// Prints `summary` as a table.
pub fn print_table(name: &str, summary: &Value) {
    println!("\n== {name} ==");
    println!(
        "{:<22} {:>9} {:>10} {:>10} {:>8} {:>8} {:>9} {:>9} {:>9}",
        "endpoint", "requests", "req/s", "ok/s", "refused", "errors", "p50 ms", "p95 ms", "p99 ms"
    );
    let rows = summary["endpoints"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, row)| (name.as_str(), row))
        .chain(std::iter::once(("total", &summary["total"])));
    for (endpoint, row) in rows {
        println!(
            "{:<22} {:>9} {:>10.1} {:>10.1} {:>8} {:>8} {:>9.1} {:>9.1} {:>9.1}",
            endpoint,
            row["requests"].as_u64().unwrap_or_default(),
            row["req_per_s"].as_f64().unwrap_or_default(),
            row["ok_per_s"].as_f64().unwrap_or_default(),
            row["refused"].as_u64().unwrap_or_default(),
            row["errors"].as_u64().unwrap_or_default(),
            row["p50_ms"].as_f64().unwrap_or_default(),
            row["p95_ms"].as_f64().unwrap_or_default(),
            row["p99_ms"].as_f64().unwrap_or_default(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_read_from_the_sorted_latencies() {
        let mut recorder = Recorder::default();
        for ms in 1..=100 {
            recorder.record("x", Duration::from_millis(ms), Outcome::Ok);
        }
        recorder.record("x", Duration::from_millis(500), Outcome::Error);
        recorder.record("x", Duration::from_micros(10), Outcome::Refused);
        let summary = recorder.summary(Duration::from_secs(1));
        let row = &summary["endpoints"]["x"];
        assert_eq!(row["requests"], 102);
        assert_eq!(row["errors"], 1);
        assert_eq!(row["refused"], 1);
        assert_eq!(
            row["p50_ms"], 50.0,
            "the error and the refusal are not latencies"
        );
        assert_eq!(row["p99_ms"], 99.0);
        assert_eq!(row["max_ms"], 100.0);
        assert_eq!(summary["total"]["req_per_s"], 102.0);
        assert_eq!(summary["total"]["ok_per_s"], 100.0);
    }

    #[test]
    fn merged_recorders_add_up() {
        let mut first = Recorder::default();
        first.record("a", Duration::from_millis(1), Outcome::Ok);
        let mut second = Recorder::default();
        second.record("a", Duration::from_millis(2), Outcome::Refused);
        second.record("b", Duration::from_millis(3), Outcome::Ok);
        first.merge(second);
        let summary = first.summary(Duration::from_secs(2));
        assert_eq!(summary["endpoints"]["a"]["requests"], 2);
        assert_eq!(summary["endpoints"]["a"]["refused"], 1);
        assert_eq!(summary["total"]["requests"], 3);
    }
}
