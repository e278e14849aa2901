//! `gitomatic export` on the generated graph: each format written to files by the real
//! binary (a child process), with its peak RSS (VmHWM, read until it exits) and its rate.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::ingest::proc_status_kb;

#[derive(Debug, Serialize)]
pub struct Exported {
    pub backend: String,
    pub format: String,
    pub nodes: u64,
    pub edges: u64,
    pub seconds: f64,
    pub edges_per_second: f64,
    pub megabytes_written: f64,
    pub peak_rss_mb: f64,
}

pub async fn measure(backend: &str, url: &str) -> anyhow::Result<Vec<Exported>> {
    let dir = tempfile::tempdir()?;
    let mut exported = Vec::new();
    for format in ["graphml", "ndjson", "csv"] {
        let output = dir.path().join(format!("graph.{format}"));
        eprintln!("{backend}: exporting the graph as {format}…");
        let started = Instant::now();
        // Its report goes to a file: a pipe read only at the end could fill and stall it.
        let report = dir.path().join(format!("{format}.log"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_gitomatic"))
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .args(["export", "--format", format, "--output"])
            .arg(&output)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&report)?)
            .spawn()?;
        let mut peak_kb = 0;
        let status = loop {
            if let Some(kb) = proc_status_kb(child.id(), "VmHWM:") {
                peak_kb = peak_kb.max(kb);
            }
            if let Some(status) = child.try_wait()? {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let seconds = started.elapsed().as_secs_f64();
        let stderr = std::fs::read_to_string(&report)?;
        anyhow::ensure!(status.success(), "gitomatic export failed: {stderr}");
        let (nodes, edges) = counts(&stderr)
            .ok_or_else(|| anyhow::anyhow!("no counts in the export's report: {stderr}"))?;
        exported.push(Exported {
            backend: backend.to_owned(),
            format: format.to_owned(),
            nodes,
            edges,
            seconds,
            edges_per_second: edges as f64 / seconds,
            megabytes_written: bytes_under(&output) as f64 / 1e6,
            peak_rss_mb: peak_kb as f64 / 1024.0,
        });
    }
    Ok(exported)
}

/// `exported N nodes and M edges in …`
fn counts(report: &str) -> Option<(u64, u64)> {
    let line = report.lines().find(|l| l.starts_with("exported "))?;
    let mut words = line.split_whitespace();
    let nodes = words.nth(1)?.parse().ok()?;
    let edges = words.nth(2)?.parse().ok()?;
    Some((nodes, edges))
}

/// A file's size, or the sizes of the files in a directory (CSV's tables).
fn bytes_under(path: &std::path::Path) -> u64 {
    match std::fs::read_dir(path) {
        Ok(entries) => entries
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum(),
        Err(_) => std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
    }
}

pub fn print(exported: &[Exported]) {
    if exported.is_empty() {
        return;
    }
    println!(
        "\n{:<9} {:<8} {:>10} {:>11} {:>9} {:>11} {:>10} {:>13}",
        "backend", "format", "nodes", "edges", "seconds", "edges/s", "MB out", "peak RSS MB"
    );
    for e in exported {
        println!(
            "{:<9} {:<8} {:>10} {:>11} {:>9.1} {:>11.0} {:>10.1} {:>13.1}",
            e.backend,
            e.format,
            e.nodes,
            e.edges,
            e.seconds,
            e.edges_per_second,
            e.megabytes_written,
            e.peak_rss_mb
        );
    }
}
