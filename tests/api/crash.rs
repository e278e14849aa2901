//! Crash recovery: a long sync run by a child `gitomatic serve`, killed with SIGKILL at
//! random points (some as a list's sweep is written) and restarted each time, ends with the
//! graph a clean run stores.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use gitomatic::config::DatabaseUrl;
use gitomatic::db::Db;
use gitomatic::jobs::Task;
use gitomatic::with_pool;

use crate::fake_github::{FakeGitHub, Graph, Shape};
use crate::helpers::{TestDb, backend_tests, gitomatic};
use crate::sync::{expected, floor, stored};

const KILLS: usize = 5;

/// Settings for the child: one worker that polls often and a lease that runs out soon
/// after its holder dies; no periodic jobs.
const CONFIG: &str = r#"
workers = 1
job_poll_ms = 50
job_lease_seconds = 3
discovery_schedule = ""
heartbeat_schedule = ""
refresh_schedule = ""
github_retry_base_ms = 5
# Kills are timed by REST requests, and the graph must stay the seed's.
github_graphql = false
discovery_top_up = false
"#;

struct Serve {
    child: Child,
}

impl Serve {
    fn start(dir: &std::path::Path, url: &str, github: &str, run: usize) -> Serve {
        let log = std::fs::File::create(dir.join(format!("serve-{run}.log"))).unwrap();
        let child = gitomatic(dir)
            .args(["-c", "gitomatic.toml", "serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", url)
            .env("GITHUB_API_URL", github)
            .env("GITHUB_TOKEN", "fake-token")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start gitomatic serve");
        Serve { child }
    }

    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
    }
}

/// splitmix64, so that the kill points are the same on every run.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

async fn job_status(db: &Db) -> Vec<(String, i64)> {
    with_pool!(db, |pool| sqlx::query_as(
        "SELECT status, attempts FROM jobs"
    )
    .fetch_all(pool)
    .await
    .unwrap())
}

async fn a_sync_killed_five_times_ends_with_a_clean_runs_graph(test_db: TestDb) {
    let shape = Shape {
        followers: 900,
        following: 120,
        repos: 20,
        starred: 60,
        max_stargazers: 160,
        seed: 41,
    };
    let graph = Graph::generate(shape);
    let cost = floor(&graph, "center");
    let fake = FakeGitHub::start(graph.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gitomatic.toml"), CONFIG).unwrap();
    let db = Db::connect(&DatabaseUrl::new(test_db.url.clone()), 2)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    Task::FullProfileSync {
        username: "center".to_owned(),
    }
    .enqueue(&db)
    .await
    .unwrap();

    // Kill points spread over the sync: after this many GitHub requests, each later
    // than the one before.
    let mut seed = 0x5EED;
    let mut points: Vec<usize> = (0..KILLS)
        .map(|_| 20 + (next(&mut seed) % (cost as u64 - 40)) as usize)
        .collect();
    points.sort_unstable();
    for (run, &point) in points.iter().enumerate() {
        let serve = Serve::start(dir.path(), &test_db.url, &fake.url, run);
        let deadline = Instant::now() + Duration::from_secs(120);
        // The first kill comes as the third page that may end a list arrives, while the
        // round that sweeps it is being written; the others at their points.
        let waiting = || match run {
            0 => fake.list_ends() < 3,
            _ => fake.counted() < point,
        };
        while waiting() {
            assert!(
                Instant::now() < deadline,
                "run {run} never came to its kill point (a list's end, or {point} requests)"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        serve.kill();
        eprintln!(
            "run {run}: killed after {} GitHub requests; job {:?}",
            fake.counted(),
            job_status(&db).await
        );
    }

    let serve = Serve::start(dir.path(), &test_db.url, &fake.url, KILLS);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let jobs = job_status(&db).await;
        if jobs.iter().all(|(status, _)| status == "succeeded") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the job did not finish after the kills: {jobs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    serve.kill();
    assert_eq!(
        job_status(&db).await,
        vec![("succeeded".to_owned(), 0)],
        "kills cost no attempt"
    );
    assert_eq!(stored(&db).await, expected(&graph, "center"));
    eprintln!(
        "{KILLS} kills survived; {} GitHub requests for a sync whose floor is {cost}",
        fake.counted()
    );
}

backend_tests!(a_sync_killed_five_times_ends_with_a_clean_runs_graph,);
