//! API throughput with wrk: requests per second and latency percentiles per endpoint.

use std::process::Command;

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Measured {
    pub backend: String,
    pub endpoint: String,
    pub auth: String,
    pub connections: u32,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    /// This endpoint's req/s as a share of /health/'s in the same run and settings.
    pub ratio_to_health: Option<f64>,
}

/// What wrk reports of a run.
pub struct Report {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Answers other than 2xx and 3xx.
    pub non_2xx: u64,
    /// Connections that failed: connect, read, write errors and answers slower than 10 s.
    pub socket_errors: u64,
}

/// Runs wrk against `url`, sending `headers`, and reads its report.
pub fn wrk(
    url: &str,
    headers: &[String],
    connections: u32,
    seconds: u32,
) -> anyhow::Result<Report> {
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
        // A slow answer is a latency figure, not a failure, unless it is very slow.
        "--timeout",
        "10s",
    ]);
    for header in headers {
        command.args(["-H", header]);
    }
    let output = command.arg(url).output()?;
    let report = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        anyhow::bail!(
            "wrk failed: {report} {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let rps = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    let percentile = |p: &str| {
        report
            .lines()
            .find_map(|l| l.trim().strip_prefix(p).map(str::trim))
            .and_then(milliseconds)
            .unwrap_or(f64::NAN)
    };
    let non_2xx = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let socket_errors = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map_or(0, |socket| {
            socket
                .split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>()
        });
    Ok(Report {
        requests_per_second: rps,
        p50_ms: percentile("50%"),
        p99_ms: percentile("99%"),
        non_2xx,
        socket_errors,
    })
}

/// wrk's "1.23ms", "456.00us", "1.02s" in milliseconds.
fn milliseconds(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.trim().parse::<f64>().ok().map(|n| n * factor)
}
