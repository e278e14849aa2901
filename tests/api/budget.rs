//! A credential's budget: a GitHub App's installation tokens renewed before they expire (and
//! once more after a 401), the requests in flight shared by two worker processes, a request
//! dropped half-way that gives its place back, and a crawler that spends each window's quota
//! and stops at the threshold.

use std::process::{Child, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use gitomatic::config::{DatabaseUrl, Secret};
use gitomatic::db::Db;
use gitomatic::jobs::Task;
use gitomatic::sync::Steps;
use gitomatic::with_pool;

use crate::fake_github::{FakeGitHub, Graph, Network};
use crate::helpers::{TestApp, TestDb, backend_tests, gitomatic};
use crate::sync::{SMALL, expected, setup_with, stored};

const APP_ID: u64 = 4242;
const INSTALLATION: u64 = 77;

/// An RSA key pair (private, public) in PEM, made once by `openssl`: no key is committed.
fn key_pair() -> &'static (String, String) {
    static PAIR: OnceLock<(String, String)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("app.pem");
        let run = |args: &[&str]| {
            let status = std::process::Command::new("openssl")
                .args(args)
                .stderr(Stdio::null())
                .status()
                .expect("openssl makes the test's key pair");
            assert!(status.success(), "openssl {args:?}");
        };
        let private_path = private.to_str().unwrap();
        run(&["genrsa", "-traditional", "-out", private_path, "2048"]);
        let public = dir.path().join("app.pub");
        run(&[
            "rsa",
            "-in",
            private_path,
            "-pubout",
            "-out",
            public.to_str().unwrap(),
        ]);
        (
            std::fs::read_to_string(private).unwrap(),
            std::fs::read_to_string(public).unwrap(),
        )
    })
}

/// The sync as a GitHub App, over REST alone: many requests, so that it outlives its tokens.
fn as_the_app(config: &mut gitomatic::config::Config) {
    config.github_token = None;
    config.github_app_id = Some(APP_ID);
    config.github_app_private_key = Some(Secret::new(key_pair().0.clone()));
    config.github_graphql = false;
}

async fn an_installation_token_that_expires_mid_sync_is_renewed_ahead(db: TestDb) {
    let s = setup_with(db, Graph::generate(SMALL), as_the_app).await;
    s.fake.enable_app(
        APP_ID,
        &key_pair().1,
        INSTALLATION,
        Duration::from_secs(2),
        Duration::from_secs(2),
    );
    // Slow answers make the sync outlive a token or two.
    s.fake.limit_in_flight(0, Duration::from_millis(15));
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
    let requests = s.fake.requests();
    assert!(
        s.fake.tokens_issued() >= 2,
        "renewed: {}",
        s.fake.tokens_issued()
    );
    assert!(
        requests.iter().all(|r| r.status != 401),
        "no token was used expired"
    );
    let first = requests.first().unwrap();
    assert_eq!(
        first.path_and_query, "/app/installations",
        "the first installation is looked up"
    );
}

async fn a_token_refused_early_is_renewed_once_and_the_sync_goes_on(db: TestDb) {
    let s = setup_with(db, Graph::generate(SMALL), |config| {
        as_the_app(config);
        config.github_app_installation_id = Some(INSTALLATION);
    })
    .await;
    // GitHub says a token lives an hour; it stops working after one second.
    s.fake.enable_app(
        APP_ID,
        &key_pair().1,
        INSTALLATION,
        Duration::from_secs(3600),
        Duration::from_secs(1),
    );
    s.fake.limit_in_flight(0, Duration::from_millis(15));
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
    let refused = s.fake.requests().iter().filter(|r| r.status == 401).count();
    assert!(refused >= 1, "a token was refused");
    assert_eq!(
        s.fake.tokens_issued(),
        refused + 1,
        "one renewal per refusal"
    );
}

/// A `gitomatic worker` child: two workers, GitHub's guidance of one request at a time.
struct WorkerProcess(Child);

impl WorkerProcess {
    fn start(dir: &std::path::Path, database: &str, github: &str) -> Self {
        let child = gitomatic(dir)
            .arg("worker")
            .env("DATABASE_URL", database)
            .env("GITHUB_API_URL", github)
            .env("GITHUB_TOKEN", "fake-token")
            .env("WORKERS", "2")
            .env("GITHUB_MAX_IN_FLIGHT", "1")
            .env("DISCOVERY_TOP_UP", "false")
            .env("DISCOVERY_SCHEDULE", "")
            .env("HEARTBEAT_SCHEDULE", "")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gitomatic worker");
        Self(child)
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn job_statuses(db: &Db) -> Vec<String> {
    with_pool!(db, |pool| sqlx::query_scalar("SELECT status FROM jobs")
        .fetch_all(pool)
        .await
        .unwrap())
}

async fn two_worker_processes_keep_one_request_in_flight_per_credential(test_db: TestDb) {
    let graph = Graph::network(Network {
        users: 200,
        following: 8,
        repos: 2,
        starred: 3,
        seed: 9,
    });
    let fake = FakeGitHub::start(graph.clone()).await;
    // GitHub answers slowly, and refuses a second request while one is in flight.
    fake.limit_in_flight(1, Duration::from_millis(10));
    let db = Db::connect(&DatabaseUrl::new(test_db.url.clone()), 2)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let logins: Vec<String> = graph
        .users
        .iter()
        .take(8)
        .map(|u| u.login.clone())
        .collect();
    for login in &logins {
        let task = Task::FullProfileSync {
            username: login.clone(),
        };
        task.enqueue(&db).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let workers = [
        WorkerProcess::start(dir.path(), &test_db.url, &fake.url),
        WorkerProcess::start(dir.path(), &test_db.url, &fake.url),
    ];
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let statuses = job_statuses(&db).await;
        if statuses.iter().all(|status| status == "succeeded") {
            break;
        }
        assert!(Instant::now() < deadline, "jobs: {statuses:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(workers);
    let (most, refused) = fake.in_flight_seen();
    eprintln!(
        "two worker processes, four workers: {} GitHub requests, at most {most} in flight, \
         {refused} refused",
        fake.requests().len()
    );
    assert_eq!(
        (most, refused),
        (1, 0),
        "one request in flight at a time, none refused"
    );
    let synced: i64 = with_pool!(&db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM developers WHERE synced_at IS NOT NULL"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert!(synced >= logins.len() as i64, "{synced} profiles");
}

async fn an_idle_service_spends_each_window_down_to_the_threshold(test_db: TestDb) {
    let graph = Graph::network(Network {
        users: 3000,
        following: 12,
        repos: 1,
        starred: 3,
        seed: 3,
    });
    let fake = FakeGitHub::start(graph).await;
    // Windows of three seconds: 35 requests and 10 points above the threshold of 25 each.
    let window = Duration::from_secs(3);
    fake.set_window(window);
    let reset = chrono::Utc::now().timestamp() + 3;
    fake.set_quota(60, 60, reset);
    fake.set_graphql_quota(35, 35, reset);
    let github = fake.url.clone();
    let app = TestApp::start(test_db, move |config| {
        config.workers = 2;
        config.job_poll_ms = 50;
        config.discovery_top_up = true;
        config.crawl_batch = 10;
        config.github_api_url = github;
        config.github_token = Some(Secret::new("fake-token"));
    })
    .await;
    app.queue_profile_sync("center").await;
    // Until the crawl has spent more than one window's points.
    let deadline = Instant::now() + Duration::from_secs(120);
    while fake.points() <= 10 {
        assert!(
            Instant::now() < deadline,
            "the crawl did not go on in a new window"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let crawls: i64 = with_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE name = 'crawl'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    app.stop().await.unwrap();
    let requests = fake.requests();
    let charged: Vec<i64> = requests
        .iter()
        .filter(|r| r.counted || r.points > 0)
        .map(|r| r.remaining)
        .collect();
    eprintln!(
        "an idle service crawled: {crawls} crawl jobs, {} REST requests and {} points in \
         windows of {window:?}",
        fake.counted(),
        fake.points()
    );
    assert!(crawls > 0, "idle workers queued crawls");
    assert!(
        charged.iter().all(|&left| left >= 25),
        "no request took a quota under the threshold: {charged:?}"
    );
    let refused = requests
        .iter()
        .any(|r| r.status == 403 || r.graphql_error.as_deref() == Some("RATE_LIMITED"));
    assert!(!refused, "nothing was sent that the quota could not afford");
}

/// A request dropped at any moment (its job stopped: the worker drops its future) gives its
/// place in the shared budget back, so the next request with the credential does not wait
/// out the place's lease (65 s here). Dropped while its claim of the place is on the way to
/// the database, it cannot know whether the database took it.
async fn a_request_dropped_at_any_moment_gives_its_place_back(test_db: TestDb) {
    // The sync engine as the app builds it: one place per credential, kept in the database.
    let s = setup_with(test_db, Graph::generate(SMALL), |config| {
        assert_eq!(
            config.github_max_in_flight, 1,
            "one place: a held one is missed"
        );
    })
    .await;
    let github = s.syncer.github();
    let graph = s.fake.graph();
    let url = format!("{}/users/{}", s.fake.url, graph.users[0].login);
    let (mut dropped, mut answered) = (0, 0);
    for step in 0..300u64 {
        let within = Duration::from_micros(40 * step);
        match tokio::time::timeout(within, github.get(&url, None, None)).await {
            Ok(answer) => {
                answer.unwrap();
                answered += 1;
            }
            Err(_) => dropped += 1,
        }
        let next = tokio::time::timeout(Duration::from_secs(5), github.get(&url, None, None));
        assert!(
            next.await.is_ok_and(|answer| answer.is_ok()),
            "a request dropped after {within:?} kept its place"
        );
    }
    assert!(
        dropped > 0 && answered > 0,
        "{dropped} dropped, {answered} answered"
    );
}

backend_tests!(
    an_installation_token_that_expires_mid_sync_is_renewed_ahead,
    a_token_refused_early_is_renewed_once_and_the_sync_goes_on,
    two_worker_processes_keep_one_request_in_flight_per_credential,
    a_request_dropped_at_any_moment_gives_its_place_back,
    an_idle_service_spends_each_window_down_to_the_threshold,
);
