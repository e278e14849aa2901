//! Crawl rate: the real binary (`gitomatic serve`, a child process, on its default SQLite
//! database) seeded with one user of a large generated network, against quota windows of a
//! scaled-down budget (REST requests and GraphQL points), left to discover on its own for
//! several windows: complete profiles stored per window, over REST alone and with GraphQL.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gitomatic::config::DatabaseUrl;
use gitomatic::db::Db;
use gitomatic::jobs::Task;
use gitomatic::with_pool;
use serde::Serialize;

use crate::fake_github::{FakeGitHub, Graph, Network};

/// What one window of a crawl did.
#[derive(Clone, Debug, Serialize)]
pub struct Window {
    pub complete_profiles: i64,
    pub rest_requests: usize,
    pub graphql_points: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Crawled {
    pub mode: String,
    pub windows: Vec<Window>,
    /// Queries by operation: how many, and the points they cost in all.
    pub queries: BTreeMap<String, (usize, i64)>,
    pub profiles_per_unit: f64,
    /// Requests GitHub refused: for quota, as secondary limits, or (GraphQL) unpaid, as a
    /// query against the schema or over the node limit is.
    pub refused: usize,
}

/// The budget of each window: GitHub's real ones, an hour long, scaled to the window.
pub struct Budget {
    pub window: Duration,
    pub rest: i64,
    pub points: i64,
    pub windows: usize,
}

/// A network like GitHub's, as the crawl meets it: a few dozen list items a developer.
pub fn network(users: usize) -> Network {
    Network {
        users,
        following: 15,
        repos: 3,
        starred: 8,
        seed: 17,
    }
}

pub async fn measure(
    graph: Graph,
    seed: &str,
    graphql: bool,
    budget: &Budget,
) -> anyhow::Result<Crawled> {
    let fake = FakeGitHub::start(graph).await;
    fake.set_window(budget.window);
    // Windows are counted as the fake counts them: each ends just before its quota resets
    // (the client spends the next window's quota the moment it opens).
    let (began, now) = (Instant::now(), chrono::Utc::now());
    let reset = now.timestamp() + budget.window.as_secs() as i64 + 1;
    let first_reset = began + Duration::from_millis((reset * 1000 - now.timestamp_millis()) as u64);
    fake.set_quota(budget.rest, budget.rest, reset);
    fake.set_graphql_quota(budget.points, budget.points, reset);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("gitomatic.db").display());
    let db = Db::connect(&DatabaseUrl::new(url.clone()), 2).await?;
    db.migrate().await?;
    let seed = Task::FullProfileSync {
        username: seed.to_owned(),
    };
    seed.enqueue(&db).await?;
    let mut serve = Serve(
        Command::new(env!("CARGO_BIN_EXE_gitomatic"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .current_dir(dir.path())
            .env("DATABASE_URL", &url)
            .env("GITHUB_API_URL", &fake.url)
            .env("GITHUB_TOKEN", "bench-token")
            .env("GITHUB_GRAPHQL", graphql.to_string())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let mut windows = Vec::new();
    let (mut profiles, mut rest, mut points) = (0, 0, 0);
    for window in 1..=budget.windows {
        let end = first_reset + budget.window * (window as u32 - 1) - Duration::from_millis(500);
        tokio::time::sleep_until(end.into()).await;
        anyhow::ensure!(serve.0.try_wait()?.is_none(), "serve stopped on its own");
        let now = complete_profiles(&db).await?;
        let (now_rest, now_points) = (fake.counted(), fake.points());
        windows.push(Window {
            complete_profiles: now - profiles,
            rest_requests: now_rest - rest,
            graphql_points: now_points - points,
        });
        eprintln!(
            "  {} window {window}: {} new complete profiles, {} REST requests, {} points",
            mode(graphql),
            now - profiles,
            now_rest - rest,
            now_points - points
        );
        (profiles, rest, points) = (now, now_rest, now_points);
    }
    drop(serve);
    db.close().await;
    let mut queries: BTreeMap<String, (usize, i64)> = BTreeMap::new();
    for request in fake.requests().iter().filter(|r| r.points > 0) {
        let operation = request.operation.clone().unwrap_or_default();
        let entry = queries.entry(operation).or_default();
        entry.0 += 1;
        entry.1 += request.points;
    }
    let refused = fake
        .requests()
        .iter()
        .filter(|r| {
            r.status == 403
                || r.status == 429
                || (r.path_and_query.ends_with("/graphql") && r.points == 0)
        })
        .count();
    let units = rest as f64 + points as f64;
    Ok(Crawled {
        mode: mode(graphql).to_owned(),
        windows,
        queries,
        profiles_per_unit: profiles as f64 / units.max(1.0),
        refused,
    })
}

fn mode(graphql: bool) -> &'static str {
    if graphql { "GraphQL" } else { "REST" }
}

async fn complete_profiles(db: &Db) -> anyhow::Result<i64> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM developers WHERE synced_at IS NOT NULL"
    )
    .fetch_one(pool)
    .await?))
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn print(crawls: &[Crawled], budget: &Budget) {
    println!(
        "crawl from one seed, windows of {} s with {} REST requests and {} GraphQL points each:",
        budget.window.as_secs(),
        budget.rest,
        budget.points
    );
    println!(
        "{:<8} {:>6} {:>22} {:>14} {:>15}",
        "mode", "window", "new complete profiles", "REST requests", "GraphQL points"
    );
    for crawl in crawls {
        for (n, window) in crawl.windows.iter().enumerate() {
            println!(
                "{:<8} {:>6} {:>22} {:>14} {:>15}",
                crawl.mode,
                n + 1,
                window.complete_profiles,
                window.rest_requests,
                window.graphql_points
            );
        }
    }
    for crawl in crawls {
        let queries: Vec<String> = crawl
            .queries
            .iter()
            .map(|(operation, (count, points))| {
                format!("{operation}: {count} queries, {points} points")
            })
            .collect();
        println!(
            "{}: {:.1} complete profiles per quota unit (REST request or GraphQL point); \
             {} requests refused{}",
            crawl.mode,
            crawl.profiles_per_unit,
            crawl.refused,
            if queries.is_empty() {
                String::new()
            } else {
                format!("; {}", queries.join("; "))
            }
        );
    }
}
