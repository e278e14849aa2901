//! The durable queue, the workers, the scheduler and the tasks endpoint.

use std::collections::HashMap;
use std::time::Duration;

use gitomatic::config::Config;
use gitomatic::db::Timestamp;
use gitomatic::db::jobs::{JobState, JobStatus, RunEnd};
use gitomatic::jobs::worker::{Worker, WorkerSettings};
use gitomatic::jobs::{Task, scheduler};
use gitomatic::with_pool;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::helpers::{PASSWORD, TestApp, TestDb, USER, backend_tests, gitomatic};
use crate::sync::{SMALL, Setup, expected, setup, stored};

fn settings() -> WorkerSettings {
    WorkerSettings {
        lease: Duration::from_secs(3),
        poll: Duration::from_millis(10),
        max_attempts: 3,
        retry_base: Duration::from_secs(30),
        discovery_batch: 5,
        crawl_batch: 0,
    }
}

fn worker(s: &Setup, name: &str) -> Worker {
    Worker::new(s.db.clone(), s.syncer.clone(), name.to_owned(), settings())
}

/// (status, attempts, run_at, last_error) of the only job of `name`.
async fn job_state(s: &Setup, name: &str) -> (String, i64, Timestamp, Option<String>) {
    with_pool!(&s.db, |pool| sqlx::query_as(
        "SELECT status, attempts, run_at, last_error FROM jobs WHERE name = $1"
    )
    .bind(name)
    .fetch_one(pool)
    .await
    .unwrap())
}

/// (status, checkpoint) of the only job.
async fn status_and_checkpoint(s: &Setup) -> (String, Value) {
    let (status, checkpoint): (String, sqlx::types::Json<Value>) = with_pool!(&s.db, |pool| {
        sqlx::query_as("SELECT status, checkpoint FROM jobs")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    (status, checkpoint.0)
}

/// Time passes: every waiting job is due now, and the quota windows stored have reset.
async fn make_due(s: &Setup) {
    with_pool!(&s.db, |pool| sqlx::query(
        "UPDATE jobs SET run_at = $1 WHERE status IN ('queued', 'postponed')"
    )
    .bind(Timestamp::now())
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
    with_pool!(&s.db, |pool| sqlx::query(
        "UPDATE rate_limits SET rate_reset_raw = $1"
    )
    .bind(chrono::Utc::now().timestamp() - 1)
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
}

async fn post_task(body: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = body.basic_auth(USER, Some(PASSWORD)).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn the_tasks_endpoint_lists_the_three_kinds(app: TestApp) {
    assert_eq!(
        app.json("/github/tasks/").await,
        (
            StatusCode::OK,
            json!([
                {"id": 1, "name": "full_profile_sync", "username": "required", "repo_name": "n/a"},
                {"id": 2, "name": "full_repository_sync", "username": "required", "repo_name": "required"},
                {"id": 3, "name": "discovery_scraper", "username": "n/a", "repo_name": "n/a"},
            ])
        )
    );
}

async fn posted_tasks_become_jobs_once(app: TestApp) {
    let url = app.url("/github/tasks/");
    let form = app
        .client
        .post(&url)
        .form(&[("name", "full_profile_sync"), ("username", "octocat")]);
    let (status, first) = post_task(form).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["success"], "yes");
    let job_url = first["job"].as_str().unwrap().to_owned();
    assert!(job_url.starts_with(&format!("{}/github/jobs/", app.address)));

    let again = app
        .client
        .post(&url)
        .json(&json!({"name": "full_profile_sync", "username": "OctoCat"}));
    assert_eq!(
        post_task(again).await.1["job"],
        json!(job_url),
        "the same task is not queued twice"
    );

    let multipart = reqwest::multipart::Form::new()
        .text("name", "full_repository_sync")
        .text("username", "octocat")
        .text("repo_name", "hello-world");
    let (status, repo) = post_task(app.client.post(&url).multipart(multipart)).await;
    assert_eq!(status, StatusCode::OK, "{repo}");
    assert_ne!(repo["job"], json!(job_url));

    let path = job_url.strip_prefix(&app.address).unwrap();
    let (status, job) = app.json(path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(job["name"], "full_profile_sync");
    assert_eq!(job["args"], json!({"username": "octocat"}));
    assert_eq!(job["status"], "queued");
    assert_eq!(job["url"], json!(job_url));

    let (_, queued) = app
        .json("/github/jobs/?status=queued&name=full_repository_sync")
        .await;
    assert_eq!(queued["count"], 1);
    assert_eq!(
        queued["results"][0]["args"],
        json!({"username": "octocat", "repo_name": "hello-world"})
    );
}

async fn refused_tasks_say_why_in_the_originals_words(app: TestApp) {
    let url = app.url("/github/tasks/");
    let refused = |error: &str| {
        (
            StatusCode::NOT_ACCEPTABLE,
            json!({"success": "no", "error": error}),
        )
    };
    let cases = [
        (
            app.client.post(&url).form(&[("name", "full_profile_sync")]),
            refused("Missing username. Provide a valid github username"),
        ),
        (
            app.client
                .post(&url)
                .form(&[("name", "full_profile_sync"), ("username", "")]),
            refused("Missing username. Provide a valid github username"),
        ),
        (
            app.client
                .post(&url)
                .form(&[("name", "full_repository_sync"), ("username", "octocat")]),
            refused("Missing repo_name. Provide a valid repository name"),
        ),
        (
            app.client.post(&url).json(&json!({"name": "make_coffee"})),
            refused("task name make_coffee not recognized"),
        ),
        (app.client.post(&url), refused("task name  not recognized")),
        (
            app.client
                .post(&url)
                .json(&json!({"name": "full_profile_sync", "username": "../etc"})),
            refused("Invalid username. Provide a valid github username"),
        ),
        (
            app.client.post(&url).json(
                &json!({"name": "full_repository_sync", "username": "a", "repo_name": "x/y"}),
            ),
            refused("Invalid repo_name. Provide a valid repository name"),
        ),
    ];
    for (request, expected) in cases {
        assert_eq!(post_task(request).await, expected);
    }
    let text = app
        .client
        .post(&url)
        .header("content-type", "text/plain")
        .body("name=x");
    assert_eq!(
        post_task(text).await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"detail": "Unsupported media type \"text/plain\" in request."})
        )
    );
    let broken = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{nope");
    assert_eq!(post_task(broken).await.0, StatusCode::BAD_REQUEST);
    // A task's fields are text: `false` is not the repository named "false".
    let typed = app
        .client
        .post(&url)
        .json(&json!({"name": "full_repository_sync", "username": "a", "repo_name": false}));
    assert_eq!(
        post_task(typed).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "JSON parse error - repo_name must be a string, not false"})
        )
    );
    let anonymous = app
        .client
        .post(&url)
        .form(&[("name", "discovery_scraper")])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
    let (_, jobs) = app.json("/github/jobs/").await;
    assert_eq!(jobs["count"], 0, "nothing was queued");
}

async fn a_queued_sync_runs_to_success(db: TestDb) {
    let s = setup(db, SMALL).await;
    Task::FullProfileSync {
        username: "center".into(),
    }
    .enqueue(&s.db)
    .await
    .unwrap();
    assert_eq!(worker(&s, "w1").run_until_idle().await.unwrap(), 1);
    assert_eq!(job_state(&s, "full_profile_sync").await.0, "succeeded");
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
}

async fn a_worker_killed_mid_sync_is_taken_up_from_its_checkpoint(db: TestDb) {
    let s = setup(db, SMALL).await;
    Task::FullProfileSync {
        username: "center".into(),
    }
    .enqueue(&s.db)
    .await
    .unwrap();
    let first = worker(&s, "doomed");
    let running = tokio::spawn(async move { first.run(CancellationToken::new()).await });
    while s.fake.counted() < 12 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    running.abort();
    let _ = running.await;
    assert_eq!(
        job_state(&s, "full_profile_sync").await.0,
        "running",
        "left behind, leased"
    );
    // The dead worker's lease runs out.
    with_pool!(&s.db, |pool| sqlx::query(
        "UPDATE jobs SET locked_until = $1"
    )
    .bind(Timestamp(chrono::Utc::now() - chrono::Duration::seconds(1)))
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
    assert_eq!(worker(&s, "heir").run_until_idle().await.unwrap(), 1);
    assert_eq!(job_state(&s, "full_profile_sync").await.0, "succeeded");
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
    let mut fetched: HashMap<String, usize> = HashMap::new();
    for request in s
        .fake
        .requests()
        .iter()
        .filter(|r| r.path_and_query != "/rate_limit")
    {
        *fetched.entry(request.path_and_query.clone()).or_default() += 1;
    }
    let twice: Vec<_> = fetched.iter().filter(|(_, n)| **n > 1).collect();
    // In flight at the kill: at most the round of pages being stored and the round being
    // fetched (a page of each list under way), and one profile.
    let graph = s.fake.graph();
    let lists = 3 + graph.repos_of(graph.user("center").unwrap().id).len();
    assert!(
        twice.len() <= 2 * lists + 1 && twice.iter().all(|(_, n)| **n == 2),
        "only the pages in flight are fetched again: {twice:?}"
    );
}

async fn a_stopped_worker_lets_go_of_its_job_keeping_what_is_done(db: TestDb) {
    let s = setup(db, SMALL).await;
    Task::FullProfileSync {
        username: "center".into(),
    }
    .enqueue(&s.db)
    .await
    .unwrap();
    let stop = CancellationToken::new();
    let first = worker(&s, "stopping");
    let running = tokio::spawn({
        let stop = stop.clone();
        async move { first.run(stop).await }
    });
    while s.fake.counted() < 12 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    stop.cancel();
    running.await.unwrap();
    let (status, attempts, _, _) = job_state(&s, "full_profile_sync").await;
    assert_eq!(
        (status.as_str(), attempts),
        ("queued", 0),
        "released at once, not failed"
    );
    let checkpoint: Option<Value> = with_pool!(&s.db, |pool| sqlx::query_scalar(
        "SELECT checkpoint FROM jobs"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert!(
        checkpoint
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .any(|step| step == "profile:center"),
        "its steps are kept"
    );
    assert_eq!(worker(&s, "next").run_until_idle().await.unwrap(), 1);
    let (status, _, _, error) = job_state(&s, "full_profile_sync").await;
    assert_eq!(
        (status.as_str(), error),
        ("succeeded", None),
        "taken up and done"
    );
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
}

async fn a_worker_that_lost_its_job_cannot_overwrite_the_new_holders_state(db: TestDb) {
    let s = setup(db, SMALL).await;
    let id = Task::FullProfileSync {
        username: "center".into(),
    }
    .enqueue(&s.db)
    .await
    .unwrap()
    .id();
    let gone = Timestamp(chrono::Utc::now() - chrono::Duration::seconds(1));
    assert!(s.db.claim("stalled", gone).await.unwrap().is_some());
    let later = Timestamp(chrono::Utc::now() + chrono::Duration::minutes(5));
    assert!(
        s.db.claim("heir", later).await.unwrap().is_some(),
        "the lapsed lease is taken over"
    );
    let state = |step: &str| JobState {
        checkpoint: json!([step]),
        progress: json!({"steps_done": 1}),
    };
    s.db.save_job_state(id, "heir", &state("profile"))
        .await
        .unwrap();

    s.db.save_job_state(id, "stalled", &state("stale"))
        .await
        .unwrap();
    let stale_end = RunEnd {
        status: JobStatus::Succeeded,
        run_at: later,
        attempts: 0,
        last_error: None,
    };
    s.db.end_run(id, "stalled", &stale_end, Some(&state("stale")))
        .await
        .unwrap();
    assert_eq!(
        status_and_checkpoint(&s).await,
        ("running".into(), json!(["profile"])),
        "the heir's run is untouched"
    );

    let released = RunEnd {
        status: JobStatus::Queued,
        run_at: Timestamp::now(),
        attempts: 0,
        last_error: None,
    };
    s.db.end_run(id, "heir", &released, Some(&state("repositories")))
        .await
        .unwrap();
    assert_eq!(
        status_and_checkpoint(&s).await,
        ("queued".into(), json!(["repositories"])),
        "the holder ends its run with its final steps"
    );

    assert!(s.db.claim("third", later).await.unwrap().is_some());
    let stateless = RunEnd {
        status: JobStatus::Failed,
        run_at: later,
        attempts: 3,
        last_error: Some("unknown job kind".into()),
    };
    s.db.end_run(id, "third", &stateless, None).await.unwrap();
    assert_eq!(
        status_and_checkpoint(&s).await,
        ("failed".into(), json!(["repositories"])),
        "an end without steps keeps the saved ones"
    );
}

async fn a_quota_spent_mid_list_postpones_the_job_until_the_reset(db: TestDb) {
    let s = setup(db, SMALL).await;
    let reset = chrono::Utc::now().timestamp() + 600;
    s.fake.set_quota(5000, 45, reset);
    Task::FullProfileSync {
        username: "center".into(),
    }
    .enqueue(&s.db)
    .await
    .unwrap();
    worker(&s, "w").run_until_idle().await.unwrap();
    let (status, attempts, run_at, _) = job_state(&s, "full_profile_sync").await;
    assert_eq!((status.as_str(), attempts), ("postponed", 0));
    let late = run_at.0.timestamp() - reset;
    assert!(
        (0..=30).contains(&late),
        "due at the reset, plus jitter: {late} s"
    );
    assert_eq!(
        worker(&s, "w").run_until_idle().await.unwrap(),
        0,
        "not due before the reset"
    );

    s.fake
        .set_quota(5000, 5000, chrono::Utc::now().timestamp() + 3600);
    let fresh = setup_client_after_reset(&s);
    make_due(&s).await;
    assert_eq!(fresh.run_until_idle().await.unwrap(), 1);
    assert_eq!(job_state(&s, "full_profile_sync").await.0, "succeeded");
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
}

async fn concurrent_claims_never_take_one_job_twice(db: TestDb) {
    let s = setup(db, SMALL).await;
    for i in 0..40 {
        Task::FullProfileSync {
            username: format!("user-{i}"),
        }
        .enqueue(&s.db)
        .await
        .unwrap();
    }
    let claimer = |name: &'static str| {
        let db = s.db.clone();
        tokio::spawn(async move {
            let mut claimed = Vec::new();
            let lease = Timestamp(chrono::Utc::now() + chrono::Duration::minutes(5));
            while let Some(job) = db.claim(name, lease).await.unwrap() {
                claimed.push(job.id);
            }
            claimed
        })
    };
    let (a, b) = (claimer("a"), claimer("b"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let mut all: Vec<_> = a.iter().chain(b.iter()).copied().collect();
    all.sort();
    all.dedup();
    assert_eq!(
        a.len() + b.len(),
        40,
        "every job claimed once: {} + {}",
        a.len(),
        b.len()
    );
    assert_eq!(all.len(), 40, "no job claimed twice");
}

async fn enqueueing_is_deduplicated_while_pending_only(db: TestDb) {
    let s = setup(db, SMALL).await;
    let task = Task::DiscoveryScraper;
    let first = task.enqueue(&s.db).await.unwrap();
    let second = task.enqueue(&s.db).await.unwrap();
    assert_eq!(first.id(), second.id());
    assert!(matches!(
        second,
        gitomatic::db::jobs::Enqueued::AlreadyPending(_)
    ));
    worker(&s, "w").run_until_idle().await.unwrap();
    let third = task.enqueue(&s.db).await.unwrap();
    assert_ne!(
        third.id(),
        first.id(),
        "a finished job does not stand in the way"
    );
}

async fn failing_jobs_back_off_then_fail_with_their_error(db: TestDb) {
    let s = setup(db, SMALL).await;
    s.fake.set_faults(crate::fake_github::Faults {
        server_error: 1.0,
        seed: 1,
        ..Default::default()
    });
    Task::FullProfileSync {
        username: "center".into(),
    }
    .enqueue(&s.db)
    .await
    .unwrap();
    let w = worker(&s, "w");
    w.run_until_idle().await.unwrap();
    let (status, attempts, run_at, error) = job_state(&s, "full_profile_sync").await;
    assert_eq!((status.as_str(), attempts), ("queued", 1));
    let wait = (run_at.0 - chrono::Utc::now()).num_seconds();
    assert!(
        (25..=31).contains(&wait),
        "retried after the base delay: {wait} s"
    );
    assert!(error.unwrap().contains("502"));
    make_due(&s).await;
    w.run_until_idle().await.unwrap();
    let (_, attempts, run_at, _) = job_state(&s, "full_profile_sync").await;
    let wait = (run_at.0 - chrono::Utc::now()).num_seconds();
    assert_eq!(attempts, 2);
    assert!((55..=61).contains(&wait), "the delay doubles: {wait} s");
    make_due(&s).await;
    w.run_until_idle().await.unwrap();
    let (status, attempts, _, error) = job_state(&s, "full_profile_sync").await;
    assert_eq!((status.as_str(), attempts), ("failed", 3));
    assert!(error.unwrap().contains("502"), "the cause is kept");
}

async fn the_scheduler_only_enqueues_and_empty_schedules_disable_it(db: TestDb) {
    let s = setup(db, SMALL).await;
    let disabled = Config {
        discovery_schedule: String::new(),
        heartbeat_schedule: String::new(),
        refresh_schedule: String::new(),
        job_retention_days: 0,
        ..Config::default()
    };
    assert!(scheduler::start(&s.db, &disabled).await.unwrap().is_none());
    let every_second = Config {
        discovery_schedule: "* * * * * *".into(),
        heartbeat_schedule: "* * * * * *".into(),
        ..Config::default()
    };
    // Two instances, one queue.
    let mut one = scheduler::start(&s.db, &every_second)
        .await
        .unwrap()
        .unwrap();
    let mut two = scheduler::start(&s.db, &every_second)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    one.shutdown().await.unwrap();
    two.shutdown().await.unwrap();
    let pending: Vec<(String, i64)> = with_pool!(&s.db, |pool| sqlx::query_as(
        "SELECT name, COUNT(*) FROM jobs GROUP BY name ORDER BY name"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(
        pending,
        vec![
            ("discovery_scraper".to_owned(), 1),
            ("heartbeat".to_owned(), 1)
        ],
        "queued once, not once per instance"
    );
    assert_eq!(
        s.fake.requests().len(),
        0,
        "the scheduler itself does no work"
    );
    let bad = Config {
        heartbeat_schedule: "every full moon".into(),
        ..Config::default()
    };
    let err = scheduler::start(&s.db, &bad).await.err().unwrap();
    assert!(
        format!("{err:#}").contains("invalid schedule \"every full moon\""),
        "{err:#}"
    );
}

async fn ended_jobs_past_their_retention_are_deleted(db: TestDb) {
    let s = setup(db, SMALL).await;
    let now = chrono::Utc::now();
    let days_ago = |days: i64| Timestamp(now - chrono::Duration::days(days));
    for (username, status, finished) in [
        ("old-success", "succeeded", Some(days_ago(40))),
        ("old-failure", "failed", Some(days_ago(31))),
        ("recent-success", "succeeded", Some(days_ago(29))),
        ("old-but-queued", "queued", None),
    ] {
        let task = Task::FullProfileSync {
            username: username.to_owned(),
        };
        let id = task.enqueue(&s.db).await.unwrap().id();
        with_pool!(&s.db, |pool| sqlx::query(
            "UPDATE jobs SET status = $1, finished_at = $2, created_at = $3 WHERE id = $4"
        )
        .bind(status)
        .bind(finished)
        .bind(days_ago(41))
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
    }
    let config = Config {
        discovery_schedule: String::new(),
        heartbeat_schedule: String::new(),
        job_retention_days: 30,
        ..Config::default()
    };
    let mut scheduler = scheduler::start(&s.db, &config).await.unwrap().unwrap();
    let remaining = || async {
        with_pool!(&s.db, |pool| sqlx::query_scalar::<_, String>(
            "SELECT args_key FROM jobs ORDER BY args_key"
        )
        .fetch_all(pool)
        .await
        .unwrap())
    };
    for _ in 0..100 {
        if remaining().await.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    scheduler.shutdown().await.unwrap();
    let left = remaining().await;
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left[0].contains("old-but-queued"), "{left:?}");
    assert!(left[1].contains("recent-success"), "{left:?}");
}

async fn discovery_queues_the_least_recently_synced_out_of_step_developers(db: TestDb) {
    use crate::seed::{self, Dev, at};
    let s = setup(db, SMALL).await;
    let counts = |followers: i64, repos: i64, synced: &str| Dev {
        followers_count: Some(followers),
        following_count: Some(0),
        public_repos: Some(repos),
        synced_at: at(synced),
        ..Dev::default()
    };
    seed::developer(
        &s.db,
        Dev {
            github_id: 1,
            login: "in-step".into(),
            ..counts(0, 0, "2018-01-01T00:00:00Z")
        },
    )
    .await;
    seed::developer(
        &s.db,
        Dev {
            github_id: 2,
            login: "stale-newer".into(),
            ..counts(3, 0, "2021-01-01T00:00:00Z")
        },
    )
    .await;
    seed::developer(
        &s.db,
        Dev {
            github_id: 3,
            login: "stale-older".into(),
            ..counts(0, 2, "2019-01-01T00:00:00Z")
        },
    )
    .await;
    seed::developer(&s.db, seed::dev(4, "never-synced")).await;
    let steps = gitomatic::sync::Steps::new();
    gitomatic::jobs::execute(&Task::DiscoveryScraper, &s.db, &s.syncer, 2, &steps)
        .await
        .unwrap();
    let queued: Vec<Value> = with_pool!(&s.db, |pool| sqlx::query_scalar(
        "SELECT args FROM jobs WHERE name = 'full_profile_sync' ORDER BY created_at"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    let logins: Vec<&str> = queued
        .iter()
        .map(|args| args["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        logins,
        ["never-synced", "stale-older"],
        "two at a time, least recently synced first"
    );
    assert_eq!(s.fake.requests().len(), 0, "discovery asks GitHub nothing");
}

async fn serve_runs_a_posted_sync_to_success_end_to_end(db: TestDb) {
    let fake =
        crate::fake_github::FakeGitHub::start(crate::fake_github::Graph::generate(SMALL)).await;
    let github_api_url = fake.url.clone();
    let app = TestApp::start(db, move |config| {
        config.workers = 1;
        config.job_poll_ms = 20;
        config.github_api_url = github_api_url;
        config.github_token = Some(gitomatic::config::Secret::new("fake-token"));
    })
    .await;
    let form = app
        .client
        .post(app.url("/github/tasks/"))
        .form(&[("name", "full_profile_sync"), ("username", "center")]);
    let (status, accepted) = post_task(form).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let job_path = accepted["job"]
        .as_str()
        .unwrap()
        .strip_prefix(&app.address)
        .unwrap()
        .to_owned();
    let mut seen = Vec::new();
    let job = loop {
        let (_, job) = app.json(&job_path).await;
        let status = job["status"].as_str().unwrap().to_owned();
        if seen.last() != Some(&status) {
            eprintln!("job {}: {status} progress={}", job["id"], job["progress"]);
            seen.push(status.clone());
        }
        if status == "succeeded" || status == "failed" {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(job["status"], "succeeded", "{job}");
    let graph = fake.graph();
    let center = graph.user("center").unwrap();
    let (_, developers) = app.json("/github/developers/?login=center").await;
    let me = &developers["results"][0];
    eprintln!(
        "stored: {} developers, {} repositories; center has {} followers, {} following, {} repositories, {} starred; GitHub requests: {}",
        app.json("/github/developers/").await.1["count"],
        app.json("/github/repositories/").await.1["count"],
        me["followers"].as_array().unwrap().len(),
        me["following"].as_array().unwrap().len(),
        me["repositories"].as_array().unwrap().len(),
        me["starred_repositories"].as_array().unwrap().len(),
        fake.counted(),
    );
    assert_eq!(
        me["followers"].as_array().unwrap().len(),
        graph.followers_of(center.id).len()
    );
    assert_eq!(
        me["starred_repositories"].as_array().unwrap().len(),
        graph.starred_by(center.id).len()
    );
    let (_, core) = app.json("/github/rate_limit/1/").await;
    assert_eq!(core["rate_remaining"], json!(fake.quota_remaining()));
    app.stop().await.unwrap();
}

async fn sync_user_runs_in_the_foreground_to_the_end(db: TestDb) {
    let s = setup(db, SMALL).await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = gitomatic(dir.path());
    command
        .args(["sync", "user", "center"])
        .env("DATABASE_URL", &s.test_db.url)
        .env("GITHUB_API_URL", &s.fake.url)
        .env("GITHUB_TOKEN", "fake-token");
    // The fake GitHub answers from this test's runtime: wait for the child off it.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
    let bad = gitomatic(dir.path())
        .args(["sync", "repo", "no-slash"])
        .env("DATABASE_URL", &s.test_db.url)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not OWNER/NAME"));
}

backend_tests!(
    the_tasks_endpoint_lists_the_three_kinds,
    posted_tasks_become_jobs_once,
    refused_tasks_say_why_in_the_originals_words,
    a_queued_sync_runs_to_success,
    a_worker_killed_mid_sync_is_taken_up_from_its_checkpoint,
    a_stopped_worker_lets_go_of_its_job_keeping_what_is_done,
    a_worker_that_lost_its_job_cannot_overwrite_the_new_holders_state,
    a_quota_spent_mid_list_postpones_the_job_until_the_reset,
    concurrent_claims_never_take_one_job_twice,
    enqueueing_is_deduplicated_while_pending_only,
    failing_jobs_back_off_then_fail_with_their_error,
    the_scheduler_only_enqueues_and_empty_schedules_disable_it,
    ended_jobs_past_their_retention_are_deleted,
    discovery_queues_the_least_recently_synced_out_of_step_developers,
    serve_runs_a_posted_sync_to_success_end_to_end,
    sync_user_runs_in_the_foreground_to_the_end,
);

/// A worker with a GitHub client that has not seen the spent quota: as after a restart,
/// or once the reset time has passed for the running one.
fn setup_client_after_reset(s: &Setup) -> Worker {
    let mut config = crate::sync::client_config(&s.fake);
    crate::sync::rest_only(&mut config);
    let syncer = gitomatic::app::syncer(&s.db, &config).unwrap();
    Worker::new(s.db.clone(), syncer, "after-reset".into(), settings())
}
