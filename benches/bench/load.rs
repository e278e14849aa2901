//! API load while work runs: wrk at 100 connections on the developers list while the app's
//! own worker runs a full profile sync of a user with many followers against the fake GitHub.

use std::time::{Duration, Instant};

use gitomatic::auth::password;
use gitomatic::config::{Config, DatabaseUrl, Secret};
use gitomatic::db::Db;
use serde::Serialize;

use crate::fake_github::{FakeGitHub, Graph};
use crate::{PASSWORD, Serving, USER, api, base64_of, ingest};

const CONNECTIONS: u32 = 100;

#[derive(Clone, Debug, Serialize)]
pub struct UnderLoad {
    pub backend: String,
    pub seconds: u32,
    pub connections: u32,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Answers other than 2xx/3xx, and failed connections (errors, answers over 10 s).
    pub non_2xx: u64,
    pub socket_errors: u64,
    /// GitHub requests the sync made while the load ran: proof that it ran.
    pub github_requests_during: usize,
}

pub async fn measure(
    backend: &str,
    url: &str,
    seconds: u32,
    followers: usize,
) -> anyhow::Result<UnderLoad> {
    let fake = FakeGitHub::start(Graph::generate(ingest::shape(followers))).await;
    fake.set_quota(
        10_000_000,
        10_000_000,
        chrono::Utc::now().timestamp() + 3600,
    );
    let db = Db::connect(&DatabaseUrl::new(url.to_owned()), 2).await?;
    db.migrate().await?;
    db.save_user(USER, &password::hash(PASSWORD)).await?;
    db.close().await;
    let config = Config {
        database_url: DatabaseUrl::new(url.to_owned()),
        bind: "127.0.0.1:0".parse()?,
        workers: 1,
        discovery_schedule: String::new(),
        heartbeat_schedule: String::new(),
        refresh_schedule: String::new(),
        github_api_url: fake.url.clone(),
        github_token: Some(Secret::new("bench-token")),
        // The REST sync, whose pages and writes the figures have always measured.
        github_graphql: false,
        discovery_top_up: false,
        ..Config::default()
    };
    let app = Serving::start(config).await?;
    let base = app.base.clone();
    let posted = reqwest::Client::new()
        .post(format!("{base}/github/tasks/"))
        .basic_auth(USER, Some(PASSWORD))
        .form(&[("name", "full_profile_sync"), ("username", "center")])
        .send()
        .await?;
    anyhow::ensure!(
        posted.status().is_success(),
        "POST /github/tasks/: {}",
        posted.status()
    );
    let started = Instant::now();
    while fake.counted() < 10 {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "the sync did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = fake.counted();
    let header = format!(
        "Authorization: Basic {}",
        base64_of(&format!("{USER}:{PASSWORD}"))
    );
    let target = format!("{base}/github/developers/");
    let report =
        tokio::task::spawn_blocking(move || api::wrk(&target, &[header], CONNECTIONS, seconds))
            .await??;
    let during = fake.counted() - before;
    app.stop().await?;
    Ok(UnderLoad {
        backend: backend.to_owned(),
        seconds,
        connections: CONNECTIONS,
        requests_per_second: report.requests_per_second,
        p50_ms: report.p50_ms,
        p99_ms: report.p99_ms,
        non_2xx: report.non_2xx,
        socket_errors: report.socket_errors,
        github_requests_during: during,
    })
}
