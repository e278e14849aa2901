//! Ingest: the real binary (`gitomatic sync user center`, a child process) runs a full
//! profile sync of a user with many followers against the in-tree fake GitHub, while this
//! process watches its memory and the stored edges.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gitomatic::config::DatabaseUrl;
use gitomatic::db::Db;
use gitomatic::with_pool;
use serde::Serialize;

use crate::fake_github::{FakeGitHub, Graph, Shape};

#[derive(Clone, Debug, Serialize)]
pub struct Ingested {
    pub backend: String,
    pub followers: usize,
    /// Follow and star rows stored.
    pub edges: i64,
    /// From the first stored edge to the last: the list pages' phase.
    pub edge_seconds: f64,
    pub edges_per_second: f64,
    /// Profiles fetched for developers known only from lists, after the lists.
    pub profiles: i64,
    pub wall_seconds: f64,
    pub github_requests: usize,
    pub github_floor: usize,
    pub peak_rss_mb: f64,
}

/// The user the sync starts from: `followers` followers, a few of everything else.
pub fn shape(followers: usize) -> Shape {
    Shape {
        followers,
        following: 150,
        repos: 40,
        starred: 120,
        max_stargazers: 400,
        seed: 11,
    }
}

pub async fn measure(backend: &str, url: &str, followers: usize) -> anyhow::Result<Ingested> {
    let graph = Graph::generate(shape(followers));
    let floor = floor(&graph);
    let fake = FakeGitHub::start(graph).await;
    let reset = chrono::Utc::now().timestamp() + 3600;
    fake.set_quota(10_000_000, 10_000_000, reset);
    let db = Db::connect(&DatabaseUrl::new(url.to_owned()), 2).await?;
    db.migrate().await?;

    let started = Instant::now();
    let mut child = gitomatic(url, &fake.url)
        .args(["sync", "user", "center"])
        .spawn()?;
    let pid = child.id();
    let (mut first_edge, mut last_edge, mut edges, mut peak_kb) = (None, None, 0, 0);
    let status = loop {
        peak_kb = peak_kb.max(proc_status_kb(pid, "VmHWM:").unwrap_or(0));
        let stored = edge_count(&db).await?;
        if stored > edges {
            let now = started.elapsed();
            first_edge.get_or_insert(now);
            last_edge = Some(now);
            edges = stored;
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let wall = started.elapsed();
    anyhow::ensure!(status.success(), "gitomatic sync user center: {status}");
    edges = edge_count(&db).await?;
    let profiles: i64 = with_pool!(&db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM developers WHERE synced_at IS NOT NULL"
    )
    .fetch_one(pool)
    .await?);
    db.close().await;
    let edge_seconds = match (first_edge, last_edge) {
        (Some(first), Some(last)) => (last - first).as_secs_f64().max(0.1),
        _ => wall.as_secs_f64(),
    };
    Ok(Ingested {
        backend: backend.to_owned(),
        followers,
        edges,
        edge_seconds,
        edges_per_second: edges as f64 / edge_seconds,
        profiles,
        wall_seconds: wall.as_secs_f64(),
        github_requests: fake.counted(),
        github_floor: floor,
        peak_rss_mb: peak_kb as f64 / 1024.0,
    })
}

/// The binary this bench was built with, on `url`, talking to the fake GitHub.
pub fn gitomatic(url: &str, github: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gitomatic"));
    command
        .env("DATABASE_URL", url)
        .env("GITHUB_API_URL", github)
        .env("GITHUB_TOKEN", "bench-token")
        // REST alone: the floor below is REST's; the crawl measures GraphQL.
        .env("GITHUB_GRAPHQL", "false")
        .env("DISCOVERY_TOP_UP", "false")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `kB` line of /proc/PID/status (Linux), e.g. `VmHWM:` (peak resident memory).
pub fn proc_status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn edge_count(db: &Db) -> anyhow::Result<i64> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM follows) + (SELECT COUNT(*) FROM stars)"
    )
    .fetch_one(pool)
    .await?))
}

/// GitHub's floor for this sync on an empty store: one profile, each needed list at 100 a
/// page (starred is asked even when empty), and one profile for every other developer the
/// lists name (followers, followees, the stargazers of center's repositories).
fn floor(graph: &Graph) -> usize {
    let me = graph
        .user("center")
        .expect("the generated graph has center")
        .id;
    let pages = |n: usize| n.div_ceil(100);
    let repos = graph.repos_of(me);
    let followers = graph.followers_of(me);
    let following = graph.following_of(me);
    let mut others: std::collections::BTreeSet<i64> =
        followers.iter().chain(&following).copied().collect();
    let mut stargazer_pages = 0;
    for repo in &repos {
        let gazers = graph.stargazers_of(repo.id);
        stargazer_pages += pages(gazers.len());
        others.extend(gazers.iter().map(|(id, _)| *id));
    }
    others.remove(&me);
    1 + pages(repos.len())
        + stargazer_pages
        + pages(followers.len())
        + pages(following.len())
        + pages(graph.starred_by(me).len()).max(1)
        + others.len()
}
