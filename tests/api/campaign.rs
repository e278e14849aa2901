//! The fault campaign: full profile syncs run by the app's own worker while the fake GitHub
//! fails one request in seven (5xx, resets, truncated bodies, secondary limits) and the
//! quota runs out mid-sync. The stored graph must equal a clean run's, and no job may be
//! left queued, running, postponed or failed.

use std::time::{Duration, Instant};

use gitomatic::config::Secret;
use gitomatic::with_pool;

use crate::fake_github::{FakeGitHub, Faults, Graph, Shape};
use crate::helpers::{TestApp, TestDb, backend_tests};
use crate::sync::{expected, floor, stored};

async fn syncs_under_every_fault_and_a_spent_quota_store_the_clean_graph(db: TestDb) {
    let shape = Shape {
        followers: 260,
        following: 90,
        repos: 14,
        starred: 40,
        max_stargazers: 160,
        seed: 77,
    };
    let graph = Graph::generate(shape);
    let fake = FakeGitHub::start(graph.clone()).await;
    fake.set_faults(Faults {
        server_error: 0.10,
        reset: 0.02,
        truncated: 0.02,
        secondary_limit: 0.02,
        seed: 5,
        ..Faults::default()
    });
    // Enough quota for part of the sync; the rest waits for the reset.
    let quota_left = floor(&graph, "center") as i64 / 4;
    fake.set_quota(5000, quota_left, chrono::Utc::now().timestamp() + 6);
    let github = fake.url.clone();
    let app = TestApp::start(db, move |config| {
        config.workers = 1;
        config.job_poll_ms = 20;
        config.github_api_url = github;
        config.github_token = Some(Secret::new("fake-token"));
        // The quota spent mid-sync is REST's.
        config.github_graphql = false;
        config.github_retry_base_ms = 2;
        config.github_secondary_wait_seconds = 1;
    })
    .await;
    app.queue_profile_sync("center").await;

    let started = Instant::now();
    let mut postponed = false;
    loop {
        let jobs: Vec<String> = with_pool!(&app.db, |pool| sqlx::query_scalar(
            "SELECT status FROM jobs"
        )
        .fetch_all(pool)
        .await
        .unwrap());
        postponed |= jobs.iter().any(|status| status == "postponed");
        if jobs.iter().all(|status| status == "succeeded") {
            break;
        }
        // A postponed job waits for the reset plus up to 30 s of jitter.
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "jobs did not settle: {jobs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        postponed,
        "the quota ran out mid-sync and the job was postponed"
    );
    assert_eq!(
        stored(&app.db).await,
        expected(&graph, "center"),
        "every record and edge"
    );

    let requests = fake.requests();
    let count = |status: u16| requests.iter().filter(|r| r.status == status).count();
    let secondary = requests
        .iter()
        .filter(|r| r.status == 403 && !r.counted)
        .count();
    let (errors, dropped) = (count(502), count(0));
    assert!(
        errors > 0 && dropped > 0 && secondary > 0,
        "every kind of fault struck"
    );
    eprintln!(
        "fault campaign: {} requests, {errors} × 502, {dropped} dropped (resets and truncated bodies), \
         {secondary} secondary limits, quota spent mid-sync ({quota_left} left); {} s to a clean graph",
        requests.len(),
        started.elapsed().as_secs(),
    );
    app.stop().await.unwrap();
}

backend_tests!(syncs_under_every_fault_and_a_spent_quota_store_the_clean_graph,);
