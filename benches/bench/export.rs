//! `gitomatic export` on the generated graph: each format written to files by the real
//! binary (a child process), with its peak RSS (VmHWM, read until it exits) and its rate.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gitomatic::config::DatabaseUrl;
use gitomatic::db::{Db, Pool};
use gitomatic::with_pool;
use serde::Serialize;

use crate::generate::Scale;
use crate::ingest::proc_status_kb;

/// Statements that fill the store with a graph of `{developers}` developers (a tenth known
/// only from lists), `{repositories}` repositories, `{per_follows}` follows and `{per_stars}`
/// stars from each developer, in bulk: the API's generator goes through the sync's upserts
/// and takes hours at the large scale, where the export needs only the rows. Ids are
/// numbers written as UUIDs, so edges can name their ends without a lookup.
const SQLITE_GRAPH: &[&str] = &[
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {developers}) \
     INSERT INTO developers (id, github_id, login, name, location, bio, created_at, updated_at, \
         followers_count, following_count, public_gists, public_repos, synced_at, inserted_at) \
     SELECT unhex(printf('%032x', i)), i, 'user-' || i, 'Developer ' || i, 'Lisbon', \
         CASE WHEN i % 2 = 0 THEN 'Writes code, \"number\" ' || i END, \
         '2012-03-04T05:06:07.000000Z', '2020-01-01T00:00:00.000000Z', {per_follows}, \
         {per_follows}, i % 7, 2, \
         CASE WHEN i % 10 <> 0 THEN '2024-01-01T00:00:00.000000Z' END, \
         '2024-01-01T00:00:00.000000Z' FROM n",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {repositories}) \
     INSERT INTO repositories (id, github_id, owner_id, owner_github_id, name, full_name, \
         description, language, created_at, updated_at, has_downloads, has_issues, has_pages, \
         has_projects, has_wiki, private, archived, disabled, stargazers_count, \
         watchers_count, open_issues_count, synced_at, inserted_at) \
     SELECT unhex(printf('%032x', 1099511627776 + i)), 10000000 + i, \
         unhex(printf('%032x', i % {developers} + 1)), i % {developers} + 1, 'repo-' || i, \
         'user-' || (i % {developers} + 1) || '/repo-' || i, 'Project <' || i || '>', 'Rust', \
         '2016-01-01T00:00:00.000000Z', '2020-01-01T00:00:00.000000Z', TRUE, TRUE, FALSE, \
         TRUE, i % 2 = 0, FALSE, i % 13 = 0, FALSE, 5, 5, i % 11, \
         CASE WHEN i % 3 <> 0 THEN '2024-01-01T00:00:00.000000Z' END, \
         '2024-01-01T00:00:00.000000Z' FROM n",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {developers}), \
         k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < {per_follows}) \
     INSERT OR IGNORE INTO follows (follower_id, followee_id) \
     SELECT unhex(printf('%032x', i)), unhex(printf('%032x', (i * 31 + j * 1009) % {developers} + 1)) \
     FROM n, k",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {developers}), \
         k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < {per_stars}) \
     INSERT OR IGNORE INTO stars (developer_id, repository_id, starred_at) \
     SELECT unhex(printf('%032x', i)), \
         unhex(printf('%032x', 1099511627776 + (i * 13 + j * 7919) % {repositories} + 1)), \
         '2021-01-01T00:00:00.000000Z' FROM n, k",
];

const POSTGRES_GRAPH: &[&str] = &[
    "INSERT INTO developers (id, github_id, login, name, location, bio, created_at, updated_at, \
         followers_count, following_count, public_gists, public_repos, synced_at, inserted_at) \
     SELECT lpad(to_hex(i), 32, '0')::uuid, i, 'user-' || i, 'Developer ' || i, 'Lisbon', \
         CASE WHEN i % 2 = 0 THEN 'Writes code, \"number\" ' || i END, \
         '2012-03-04T05:06:07Z', '2020-01-01T00:00:00Z', {per_follows}, {per_follows}, i % 7, 2, \
         CASE WHEN i % 10 <> 0 THEN '2024-01-01T00:00:00Z'::timestamptz END, \
         '2024-01-01T00:00:00Z' FROM generate_series(1::bigint, {developers}) i",
    "INSERT INTO repositories (id, github_id, owner_id, owner_github_id, name, full_name, \
         description, language, created_at, updated_at, has_downloads, has_issues, has_pages, \
         has_projects, has_wiki, private, archived, disabled, stargazers_count, \
         watchers_count, open_issues_count, synced_at, inserted_at) \
     SELECT lpad(to_hex(1099511627776 + i), 32, '0')::uuid, 10000000 + i, \
         lpad(to_hex(i % {developers} + 1), 32, '0')::uuid, i % {developers} + 1, 'repo-' || i, \
         'user-' || (i % {developers} + 1) || '/repo-' || i, 'Project <' || i || '>', 'Rust', \
         '2016-01-01T00:00:00Z', '2020-01-01T00:00:00Z', TRUE, TRUE, FALSE, TRUE, i % 2 = 0, \
         FALSE, i % 13 = 0, FALSE, 5, 5, i % 11, \
         CASE WHEN i % 3 <> 0 THEN '2024-01-01T00:00:00Z'::timestamptz END, \
         '2024-01-01T00:00:00Z' FROM generate_series(1::bigint, {repositories}) i",
    "INSERT INTO follows (follower_id, followee_id) \
     SELECT lpad(to_hex(i), 32, '0')::uuid, \
         lpad(to_hex((i * 31 + j * 1009) % {developers} + 1), 32, '0')::uuid \
     FROM generate_series(1::bigint, {developers}) i, generate_series(1, {per_follows}) j \
     ON CONFLICT DO NOTHING",
    "INSERT INTO stars (developer_id, repository_id, starred_at) \
     SELECT lpad(to_hex(i), 32, '0')::uuid, \
         lpad(to_hex(1099511627776 + (i * 13 + j * 7919) % {repositories} + 1), 32, '0')::uuid, \
         '2021-01-01T00:00:00Z' FROM generate_series(1::bigint, {developers}) i, \
         generate_series(1, {per_stars}) j ON CONFLICT DO NOTHING",
];

/// Fills the (migrated, empty) database at `url` with a graph of `scale`'s size.
pub async fn generate(url: &str, scale: Scale) -> anyhow::Result<Duration> {
    let started = Instant::now();
    // One connection, so that its cache setting holds for every statement.
    let db = Db::connect(&DatabaseUrl::new(url.to_owned()), 1).await?;
    db.migrate().await?;
    let statements = match db.pool() {
        Pool::Sqlite(_) => {
            with_pool!(&db, |pool| sqlx::query("PRAGMA cache_size = -1000000")
                .execute(pool)
                .await
                .map(|_| ()))?;
            SQLITE_GRAPH
        }
        Pool::Postgres(_) => POSTGRES_GRAPH,
    };
    let developers = scale.developers.to_string();
    let repositories = scale.repositories.to_string();
    let per_follows = (scale.follows / scale.developers).to_string();
    let per_stars = (scale.stars / scale.developers).to_string();
    for statement in statements {
        let sql = statement
            .replace("{developers}", &developers)
            .replace("{repositories}", &repositories)
            .replace("{per_follows}", &per_follows)
            .replace("{per_stars}", &per_stars);
        with_pool!(&db, |pool| sqlx::query(&sql)
            .execute(pool)
            .await
            .map(|_| ()))?;
    }
    db.close().await;
    Ok(started.elapsed())
}

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
