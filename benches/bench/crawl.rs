//! Crawl rate: the real binary (`gitomatic serve`, a child process, on its default SQLite
//! database) seeded with one user of a large generated network, against quota windows of a
//! scaled-down budget (REST requests and GraphQL points), left to discover on its own for
//! several windows: complete profiles stored per window, over REST alone, with GraphQL, and
//! with GraphQL against today's GitHub — every stargazer list refused (403, 404 and empty
//! pages, GraphQL's `FORBIDDEN` and empty pages) and a work limit that times out the largest
//! queries — with what that costs: points lost to time-outs, stargazer lists asked, star
//! edges lost, repositories marked gone, jobs failed.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gitomatic::config::DatabaseUrl;
use gitomatic::db::Db;
use gitomatic::jobs::Task;
use gitomatic::with_pool;
use serde::Serialize;
use uuid::Uuid;

use crate::fake_github::{FakeGitHub, Graph, Network, Request, Restrictions, WorkLimit};

/// The GitHub a crawl meets, and how it reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Rest,
    Graphql,
    /// GraphQL, against stargazer lists refused and queries held to a work limit.
    Today,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Rest, Mode::Graphql, Mode::Today];

    fn name(self) -> &'static str {
        match self {
            Mode::Rest => "REST",
            Mode::Graphql => "GraphQL",
            Mode::Today => "today",
        }
    }
}

/// A work limit (objects in an answer) that times out every query doing more than half the
/// work of the largest one a crawl sent against the unlimited fake (`largest`), as GitHub
/// times out the heaviest queries.
pub fn todays_limit(largest: i64) -> WorkLimit {
    WorkLimit {
        partial_above: largest / 2,
        timeout_above: largest / 2,
        penalty: 1,
    }
}

/// What today's GitHub cost a crawl.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Refusals {
    /// Queries that timed out, and the points they cost.
    pub timeouts: usize,
    pub points_lost: i64,
    /// Requests for a stargazer list, and the most for one repository.
    pub stargazer_requests: usize,
    pub most_for_one_repository: usize,
    /// Star edges stored at the end of one window and missing at the end of a later one.
    pub stars_lost: usize,
    pub repositories_marked: i64,
    pub jobs_failed: i64,
    /// The last query of pages: lists and the work GitHub counts; of profiles: ids.
    pub last_pages: Option<(usize, i64)>,
    pub last_profiles: Option<usize>,
}

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
    pub refusals: Refusals,
    pub windows: Vec<Window>,
    /// Queries by operation: how many, and the points they cost in all.
    pub queries: BTreeMap<String, (usize, i64)>,
    pub profiles_per_unit: f64,
    /// The most work (objects in an answer) one query did.
    pub largest_work: i64,
    /// Today's work limit: answers cut short past the first, timed out past the second.
    pub work_limit: Option<(i64, i64)>,
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

/// A crawl in `mode`; today's is held to `limit`.
pub async fn measure(
    graph: Graph,
    seed: &str,
    (mode, limit): (Mode, WorkLimit),
    budget: &Budget,
) -> anyhow::Result<Crawled> {
    let graphql = mode != Mode::Rest;
    let fake = FakeGitHub::start(graph).await;
    if mode == Mode::Today {
        fake.restrict_stargazers(Restrictions::everywhere());
        fake.set_work_limit(Some(limit));
    }
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
    let (mut stars, mut stars_lost) = (std::collections::HashSet::new(), 0);
    for window in 1..=budget.windows {
        let end = first_reset + budget.window * (window as u32 - 1) - Duration::from_millis(500);
        tokio::time::sleep_until(end.into()).await;
        anyhow::ensure!(serve.0.try_wait()?.is_none(), "serve stopped on its own");
        let now = complete_profiles(&db).await?;
        let stars_now = star_edges(&db).await?;
        stars_lost += stars.difference(&stars_now).count();
        stars = stars_now;
        let (now_rest, now_points) = (fake.counted(), fake.points());
        windows.push(Window {
            complete_profiles: now - profiles,
            rest_requests: now_rest - rest,
            graphql_points: now_points - points,
        });
        eprintln!(
            "  {} window {window}: {} new complete profiles, {} REST requests, {} points",
            mode.name(),
            now - profiles,
            now_rest - rest,
            now_points - points
        );
        (profiles, rest, points) = (now, now_rest, now_points);
    }
    drop(serve);
    let refusals = refusals(&fake, &db, stars_lost).await?;
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
        mode: mode.name().to_owned(),
        refusals,
        windows,
        queries,
        profiles_per_unit: profiles as f64 / units.max(1.0),
        largest_work: fake.requests().iter().map(|r| r.work).max().unwrap_or(0),
        work_limit: (mode == Mode::Today).then_some((limit.partial_above, limit.timeout_above)),
        refused,
    })
}

/// What the stargazer refusals and the work limit cost, read off the fake and the store.
async fn refusals(fake: &FakeGitHub, db: &Db, stars_lost: usize) -> anyhow::Result<Refusals> {
    let requests = fake.requests();
    let mut per_repository: BTreeMap<String, usize> = BTreeMap::new();
    for request in requests
        .iter()
        .filter(|r| r.path_and_query.contains("/stargazers"))
    {
        let path = request.path_and_query.split('?').next().unwrap_or_default();
        *per_repository.entry(path.to_owned()).or_default() += 1;
    }
    let operation = |name: &str| {
        let last = requests
            .iter()
            .rfind(|r| r.operation.as_deref() == Some(name) && r.status == 200);
        last.map(|r| (r.fields, r.work))
    };
    let count = |sql: &'static str| async move {
        with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await)
    };
    let timed_out = |r: &&Request| r.graphql_error.as_deref() == Some("TIMEOUT");
    Ok(Refusals {
        timeouts: requests.iter().filter(timed_out).count(),
        points_lost: fake.points_lost(),
        stargazer_requests: per_repository.values().sum(),
        most_for_one_repository: per_repository.values().copied().max().unwrap_or(0),
        stars_lost,
        repositories_marked: count(
            "SELECT COUNT(*) FROM repositories WHERE gone_at IS NOT NULL OR blocked_at IS NOT NULL",
        )
        .await?,
        jobs_failed: count("SELECT COUNT(*) FROM jobs WHERE status = 'failed'").await?,
        last_pages: operation("Pages"),
        last_profiles: operation("Profiles").map(|(ids, _)| ids),
    })
}

async fn star_edges(db: &Db) -> anyhow::Result<std::collections::HashSet<(Uuid, Uuid)>> {
    let rows: Vec<(Uuid, Uuid)> = with_pool!(db, |pool| sqlx::query_as(
        "SELECT developer_id, repository_id FROM stars"
    )
    .fetch_all(pool)
    .await?);
    Ok(rows.into_iter().collect())
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
    print_refusals(crawls);
    for crawl in crawls {
        let queries: Vec<String> = crawl
            .queries
            .iter()
            .map(|(operation, (count, points))| {
                format!("{operation}: {count} queries, {points} points")
            })
            .collect();
        if let Some((partial, timeout)) = crawl.work_limit {
            println!(
                "{}: answers of over {partial} objects cut short, of over {timeout} timed out",
                crawl.mode
            );
        }
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

/// What the refusals and the work limit cost each mode, side by side.
fn print_refusals(crawls: &[Crawled]) {
    println!(
        "{:<8} {:>13} {:>9} {:>11} {:>12} {:>20} {:>10} {:>9} {:>11} {:>24} {:>12}",
        "mode",
        "largest work",
        "timeouts",
        "points lost",
        "of spent",
        "REST stargazer asks",
        "stars lost",
        "marked",
        "jobs failed",
        "last Pages: lists/work",
        "Profiles ids"
    );
    for crawl in crawls {
        let r = &crawl.refusals;
        let spent: i64 = crawl.windows.iter().map(|w| w.graphql_points).sum();
        let pages = r
            .last_pages
            .map_or("-".to_owned(), |(lists, work)| format!("{lists}/{work}"));
        println!(
            "{:<8} {:>13} {:>9} {:>11} {:>11.1}% {:>13} ({} max) {:>10} {:>9} {:>11} {:>24} {:>12}",
            crawl.mode,
            crawl.largest_work,
            r.timeouts,
            r.points_lost,
            100.0 * r.points_lost as f64 / spent.max(1) as f64,
            r.stargazer_requests,
            r.most_for_one_repository,
            r.stars_lost,
            r.repositories_marked,
            r.jobs_failed,
            pages,
            r.last_profiles
                .map_or("-".to_owned(), |ids| ids.to_string()),
        );
    }
}
