//! The real binary serving (`gitomatic serve`, a child process, with its workers and
//! scheduler) after it has run one sync POSTed through the API against the in-tree fake
//! GitHub and answered a few page loads: its memory once it has settled, and (`--demo`) the
//! same service left running for the browser check.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::fake_github::{FakeGitHub, Graph};
use crate::ingest::{self, KillOnDrop, proc_status_kb};
use crate::{PASSWORD, USER};

/// What the memory at rest is read after: the sync, these pages, and this long a pause.
pub const PAGES: [&str; 9] = [
    "/github/",
    "/github/developers/",
    "/github/developers/?format=api",
    "/github/repositories/?page=last",
    "/github/tasks/?format=api",
    "/github/dashboard/",
    "/github/stats/",
    "/github/swagger.json",
    "/metrics",
];
/// Past the pools' idle time-out (30 s), so idle connections are closed.
const SETTLE: Duration = Duration::from_secs(40);

#[derive(Clone, Debug, Serialize)]
pub struct AtRest {
    pub backend: String,
    pub followers: usize,
    pub rss_at_start_mb: f64,
    pub rss_after_activity_mb: f64,
    pub anonymous_after_activity_mb: f64,
}

/// `serve` on `url` after one sync of a user with `followers` followers and the page loads.
pub struct Served {
    pub address: String,
    pub child: KillOnDrop,
    pub rss_at_start_kb: u64,
    _fake: FakeGitHub,
}

pub async fn after_one_sync(url: &str, followers: usize) -> anyhow::Result<Served> {
    let fake = FakeGitHub::start(Graph::generate(ingest::shape(followers))).await;
    let reset = chrono::Utc::now().timestamp() + 3600;
    fake.set_quota(10_000_000, 10_000_000, reset);
    fake.set_graphql_quota(10_000_000, 10_000_000, reset);
    let mut create = ingest::gitomatic(url, &fake.url)
        .args(["create-user", USER, "--password-stdin"])
        .stdin(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = create.stdin.take() {
        use std::io::Write;
        writeln!(stdin, "{PASSWORD}")?;
    }
    anyhow::ensure!(create.wait()?.success(), "gitomatic create-user failed");

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let address = format!("http://127.0.0.1:{port}");
    let child = ingest::gitomatic(url, &fake.url)
        .env("GITHUB_GRAPHQL", "true")
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .spawn()?;
    let child = KillOnDrop(child);
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("{address}/health/"))
        .send()
        .await
        .is_err()
    {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss_at_start_kb = rss_kb(&child.0)?;

    let accepted: serde_json::Value = client
        .post(format!("{address}/github/tasks/"))
        .basic_auth(USER, Some(PASSWORD))
        .form(&[("name", "full_profile_sync"), ("username", "center")])
        .send()
        .await?
        .json()
        .await?;
    let job = accepted["job"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no job in {accepted}"))?;
    loop {
        let job: serde_json::Value = client
            .get(job)
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await?
            .json()
            .await?;
        match job["status"].as_str() {
            Some("succeeded") => break,
            Some("failed") => anyhow::bail!("the sync failed: {job}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    for page in PAGES {
        let answer = client
            .get(format!("{address}{page}"))
            .basic_auth(USER, Some(PASSWORD))
            .header("accept-encoding", "gzip, br")
            .send()
            .await?;
        anyhow::ensure!(answer.status().is_success(), "{page}: {}", answer.status());
        answer.bytes().await?;
    }
    Ok(Served {
        address,
        child,
        rss_at_start_kb,
        _fake: fake,
    })
}

/// The memory of `serve` at start, and at rest after the sync and the page loads.
pub async fn measure(backend: &str, url: &str, followers: usize) -> anyhow::Result<AtRest> {
    let served = after_one_sync(url, followers).await?;
    tokio::time::sleep(SETTLE).await;
    let pid = served.child.0.id();
    let anonymous = proc_status_kb(pid, "RssAnon:").unwrap_or(0);
    Ok(AtRest {
        backend: backend.to_owned(),
        followers,
        rss_at_start_mb: served.rss_at_start_kb as f64 / 1024.0,
        rss_after_activity_mb: rss_kb(&served.child.0)? as f64 / 1024.0,
        anonymous_after_activity_mb: anonymous as f64 / 1024.0,
    })
}

/// Serves for the browser check: writes the address to `file`, then serves until the file
/// is removed (or an hour has passed).
pub async fn demo(url: &str, file: &str) -> anyhow::Result<()> {
    let served = after_one_sync(url, 2_000).await?;
    // The requests per hour are saved each minute: the page is looked at once they are.
    let client = reqwest::Client::new();
    loop {
        let stats: serde_json::Value = client
            .get(format!("{}/github/stats/", served.address))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await?
            .json()
            .await?;
        if stats["github_requests"]
            .as_array()
            .is_some_and(|hours| !hours.is_empty())
        {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    std::fs::write(file, format!("{}\n", served.address))?;
    eprintln!("serving {} until {file} is removed", served.address);
    let started = Instant::now();
    while std::path::Path::new(file).exists() && started.elapsed() < Duration::from_secs(3600) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

fn rss_kb(child: &Child) -> anyhow::Result<u64> {
    proc_status_kb(child.id(), "VmRSS:").ok_or_else(|| anyhow::anyhow!("no VmRSS for serve"))
}
