//! The crash campaign: full profile syncs of the most followed developers of a network, who
//! follow and star each other, run by `gitomatic serve` (a child process with three workers)
//! against the fake GitHub answering a few milliseconds late. The child is killed with SIGKILL
//! at random moments and started again: every other kill comes moments after GitHub answered
//! a page that may end a list, while the round that sweeps that list is being written. Once
//! every job has ended, each list the syncs read is compared with GitHub's truth.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use gitomatic::config::DatabaseUrl;
use gitomatic::db::Db;
use gitomatic::jobs::Task;
use gitomatic::with_pool;
use serde::Serialize;

use crate::crawl::network;
use crate::fake_github::{FakeGitHub, Graph};
use crate::ingest::{KillOnDrop, gitomatic};

/// What the campaign runs: its flags.
#[derive(Clone, Debug)]
pub struct Campaign {
    pub kills: usize,
    pub runs: usize,
    pub users: usize,
    pub subjects: usize,
    pub latency_ms: u64,
    pub graphql: bool,
}

/// One run's figures.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub backend: String,
    pub run: usize,
    pub api: &'static str,
    pub kills: usize,
    pub kills_at_list_end: usize,
    pub edges_expected: usize,
    pub edges_lost: usize,
    pub edges_extra: usize,
    pub duplicates: usize,
    pub jobs_failed: usize,
    pub jobs_unfinished: usize,
    pub github_requests: usize,
    pub seconds: f64,
}

/// Three workers with a request each in flight, so that passes over both lists of an edge run
/// at once; job leases and places in flight (held for a request's time-out) that run out soon
/// after their holder is killed; no periodic jobs and no crawl, so that the jobs end.
const CONFIG: &str = r#"
workers = 3
github_max_in_flight = 3
github_timeout_seconds = 3
job_poll_ms = 50
job_lease_seconds = 3
discovery_schedule = ""
heartbeat_schedule = ""
refresh_schedule = ""
github_retry_base_ms = 5
discovery_top_up = false
"#;

/// The campaign on `backend`, run after run, each on a fresh database.
pub async fn on(backend: &str, campaign: &Campaign) -> anyhow::Result<Vec<Outcome>> {
    let graph = Graph::network(network(campaign.users));
    let mut outcomes = Vec::new();
    for run in 1..=campaign.runs {
        let (url, _guard) = crate::database(backend, "crash").await?;
        eprintln!("{backend}: crash campaign run {run}…");
        let outcome = one_run(backend, &url, &graph, campaign, run).await?;
        print(std::slice::from_ref(&outcome));
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

async fn one_run(
    backend: &str,
    url: &str,
    graph: &Graph,
    campaign: &Campaign,
    run: usize,
) -> anyhow::Result<Outcome> {
    let began = Instant::now();
    let fake = FakeGitHub::start(graph.clone()).await;
    let far = chrono::Utc::now().timestamp() + 86_400;
    fake.set_quota(100_000_000, 100_000_000, far);
    fake.set_graphql_quota(100_000_000, 100_000_000, far);
    fake.limit_in_flight(0, Duration::from_millis(campaign.latency_ms));
    let db = Db::connect(&DatabaseUrl::new(url.to_owned()), 2).await?;
    db.migrate().await?;
    let subjects = &graph.users[..campaign.subjects.min(graph.users.len())];
    for subject in subjects {
        let task = Task::FullProfileSync {
            username: subject.login.clone(),
        };
        task.enqueue(&db).await?;
    }
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("gitomatic.toml"), CONFIG)?;
    let mut rng = fastrand::Rng::with_seed(0x26 + run as u64);
    let (mut kills, mut at_list_end) = (0, 0);
    while kills < campaign.kills {
        let serve = start(dir.path(), url, &fake, campaign.graphql, kills)?;
        let requests = fake.counted();
        if !until(&db, || fake.counted() > requests).await? {
            break;
        }
        if kills % 2 == 1 {
            let ends = fake.list_ends();
            if !until(&db, || fake.list_ends() > ends).await? {
                break;
            }
            tokio::time::sleep(Duration::from_micros(rng.u64(0..3_000))).await;
            at_list_end += 1;
        } else {
            tokio::time::sleep(Duration::from_millis(rng.u64(100..1_500))).await;
        }
        drop(serve);
        kills += 1;
    }
    let serve = start(dir.path(), url, &fake, campaign.graphql, kills)?;
    let deadline = Instant::now() + Duration::from_secs(900);
    while !jobs(&db).await?.ended() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(serve);
    let jobs = jobs(&db).await?;
    let compared = compare(&db, graph, campaign.subjects).await?;
    db.close().await;
    Ok(Outcome {
        backend: backend.to_owned(),
        run,
        api: if campaign.graphql { "GraphQL" } else { "REST" },
        kills,
        kills_at_list_end: at_list_end,
        edges_expected: compared.expected,
        edges_lost: compared.lost,
        edges_extra: compared.extra,
        duplicates: compared.duplicates,
        jobs_failed: jobs.failed,
        jobs_unfinished: jobs.unfinished,
        github_requests: fake.counted(),
        seconds: began.elapsed().as_secs_f64(),
    })
}

fn start(
    dir: &Path,
    url: &str,
    fake: &FakeGitHub,
    graphql: bool,
    run: usize,
) -> anyhow::Result<KillOnDrop> {
    let log = std::fs::File::create(dir.join(format!("serve-{run}.log")))?;
    let child = gitomatic(url, &fake.url)
        .args(["-c", "gitomatic.toml", "serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir)
        .env("GITHUB_GRAPHQL", graphql.to_string())
        .stderr(Stdio::from(log))
        .spawn()?;
    Ok(KillOnDrop(child))
}

/// Waits until `done`; false when every job ended first (nothing is left to interrupt).
async fn until(db: &Db, done: impl Fn() -> bool) -> anyhow::Result<bool> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut checked = Instant::now();
    while !done() {
        if checked.elapsed() > Duration::from_millis(100) {
            if jobs(db).await?.ended() {
                return Ok(false);
            }
            checked = Instant::now();
        }
        anyhow::ensure!(Instant::now() < deadline, "the syncs made no progress");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(true)
}

struct Jobs {
    failed: usize,
    unfinished: usize,
}

impl Jobs {
    fn ended(&self) -> bool {
        self.unfinished == 0
    }
}

async fn jobs(db: &Db) -> anyhow::Result<Jobs> {
    let statuses: Vec<String> =
        with_pool!(db, |pool| sqlx::query_scalar("SELECT status FROM jobs")
            .fetch_all(pool)
            .await?);
    let failed = statuses.iter().filter(|s| *s == "failed").count();
    let succeeded = statuses.iter().filter(|s| *s == "succeeded").count();
    Ok(Jobs {
        failed,
        unfinished: statuses.len() - failed - succeeded,
    })
}

struct Compared {
    expected: usize,
    lost: usize,
    extra: usize,
    duplicates: usize,
}

/// The stored edges against GitHub's: every edge of the lists the syncs read (each subject's
/// followers, following and starred, and the stargazers of its repositories) must be stored,
/// and nothing stored may be missing from GitHub.
async fn compare(db: &Db, graph: &Graph, subjects: usize) -> anyhow::Result<Compared> {
    let follows: Vec<(i64, i64)> = with_pool!(db, |pool| sqlx::query_as(
        "SELECT a.github_id, b.github_id FROM follows f \
         JOIN developers a ON a.id = f.follower_id JOIN developers b ON b.id = f.followee_id"
    )
    .fetch_all(pool)
    .await?);
    let stars: Vec<(i64, i64)> = with_pool!(db, |pool| sqlx::query_as(
        "SELECT d.github_id, r.github_id FROM stars s \
         JOIN developers d ON d.id = s.developer_id JOIN repositories r ON r.id = s.repository_id"
    )
    .fetch_all(pool)
    .await?);
    let mut expected_follows = BTreeSet::new();
    let mut expected_stars = BTreeSet::new();
    for subject in graph.users.iter().take(subjects) {
        let id = subject.id;
        expected_follows.extend(graph.followers_of(id).into_iter().map(|f| (f, id)));
        expected_follows.extend(graph.following_of(id).into_iter().map(|f| (id, f)));
        expected_stars.extend(graph.starred_by(id).into_iter().map(|(r, _)| (id, r)));
        for repo in graph.repos_of(id) {
            let gazers = graph.stargazers_of(repo.id).into_iter();
            expected_stars.extend(gazers.map(|(user, _)| (user, repo.id)));
        }
    }
    let true_follows: BTreeSet<(i64, i64)> = graph.follows.iter().copied().collect();
    let true_stars: BTreeSet<(i64, i64)> = graph.stars.iter().map(|s| (s.0, s.1)).collect();
    let stored_follows: BTreeSet<(i64, i64)> = follows.iter().copied().collect();
    let stored_stars: BTreeSet<(i64, i64)> = stars.iter().copied().collect();
    Ok(Compared {
        expected: expected_follows.len() + expected_stars.len(),
        lost: expected_follows.difference(&stored_follows).count()
            + expected_stars.difference(&stored_stars).count(),
        extra: stored_follows.difference(&true_follows).count()
            + stored_stars.difference(&true_stars).count(),
        duplicates: follows.len() - stored_follows.len() + stars.len() - stored_stars.len(),
    })
}

pub fn print(outcomes: &[Outcome]) {
    println!(
        "{:<9} {:<8} {:>3} {:>6} {:>9} {:>9} {:>5} {:>6} {:>5} {:>7} {:>11} {:>9} {:>8}",
        "backend",
        "api",
        "run",
        "kills",
        "at a list",
        "expected",
        "lost",
        "extra",
        "dups",
        "failed",
        "unfinished",
        "requests",
        "seconds"
    );
    for o in outcomes {
        println!(
            "{:<9} {:<8} {:>3} {:>6} {:>9} {:>9} {:>5} {:>6} {:>5} {:>7} {:>11} {:>9} {:>8.1}",
            o.backend,
            o.api,
            o.run,
            o.kills,
            o.kills_at_list_end,
            o.edges_expected,
            o.edges_lost,
            o.edges_extra,
            o.duplicates,
            o.jobs_failed,
            o.jobs_unfinished,
            o.github_requests,
            o.seconds
        );
    }
}
