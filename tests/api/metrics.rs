//! `/metrics`: Prometheus's text format, counting what the service does.

use gitomatic::config::Secret;
use prometheus_parse::{Scrape, Value};
use reqwest::StatusCode;

use crate::fake_github::{FakeGitHub, Graph};
use crate::helpers::{PASSWORD, TestApp, TestDb, USER, backend_tests};
use crate::sync::SMALL;

async fn scrape(app: &TestApp) -> Scrape {
    let response = app.get_auth("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
    );
    parse(&response.text().await.unwrap())
}

fn parse(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("Prometheus text format")
}

/// The sum of `name`'s samples whose labels include every one of `labels`.
fn total(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == name)
        .filter(|sample| {
            labels
                .iter()
                .all(|(key, value)| sample.labels.get(key) == Some(*value))
        })
        .map(|sample| match sample.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

async fn the_counters_move_after_a_sync_against_github(db: TestDb) {
    let fake = FakeGitHub::start(Graph::generate(SMALL)).await;
    let github_api_url = fake.url.clone();
    let app = TestApp::start(db, move |config| {
        config.workers = 1;
        config.job_poll_ms = 20;
        config.github_api_url = github_api_url;
        config.github_token = Some(Secret::new("fake-token"));
    })
    .await;
    // Counters are the process's, and other tests run in it too: what this test does adds
    // at least its own share to them. Gauges of the store are this database's alone.
    let before = scrape(&app).await;
    let job = app.queue_profile_sync("center").await;
    let job = app.job_end(&job).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let after = scrape(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        total(&after, name, labels) - total(&before, name, labels)
    };

    let asked = fake.requests().len() as f64;
    assert!(asked > 0.0);
    assert!(moved("github_requests_total", &[]) >= asked);
    assert!(
        moved(
            "github_requests_total",
            &[("resource", "core"), ("status", "200")]
        ) > 0.0
    );
    let (_, developers) = app.json("/github/developers/").await;
    let (_, repositories) = app.json("/github/repositories/").await;
    let developers = developers["count"].as_f64().unwrap();
    let repositories = repositories["count"].as_f64().unwrap();
    assert!(moved("records_stored_total", &[("kind", "developers")]) >= developers);
    assert!(moved("records_stored_total", &[("kind", "repositories")]) >= repositories);
    assert!(moved("records_stored_total", &[("kind", "edges")]) > 0.0);
    let run = [("kind", "full_profile_sync"), ("outcome", "succeeded")];
    assert!(moved("job_runs_total", &run) >= 1.0);
    let posts = [
        ("route", "/github/tasks/"),
        ("method", "POST"),
        ("status", "200"),
    ];
    assert!(moved("http_requests_total", &posts) >= 1.0);
    let lists = [
        ("route", "/github/repositories/"),
        ("method", "GET"),
        ("status", "200"),
    ];
    for _ in 0..3 {
        app.json("/github/repositories/").await;
    }
    let again = scrape(&app).await;
    assert!(
        total(&again, "http_requests_total", &lists) - total(&after, "http_requests_total", &lists)
            >= 3.0,
        "every answer counted, not only a route's first"
    );
    assert!(
        after
            .samples
            .iter()
            .any(|sample| sample.metric == "http_request_duration_seconds"
                && matches!(&sample.value, Value::Histogram(buckets) if !buckets.is_empty())),
        "a latency histogram"
    );

    // The store's state, as this database has it.
    let succeeded = [("kind", "full_profile_sync"), ("status", "succeeded")];
    assert_eq!(total(&after, "jobs", &succeeded), 1.0);
    assert_eq!(total(&after, "jobs", &[("status", "queued")]), 0.0);
    assert_eq!(total(&after, "job_queue_lag_seconds", &[]), 0.0);
    assert_eq!(
        total(&after, "records", &[("table", "developers")]),
        developers
    );
    assert_eq!(
        total(&after, "records", &[("table", "repositories")]),
        repositories
    );
    assert_eq!(
        total(&after, "github_quota_remaining", &[("resource", "core")]),
        fake.quota_remaining() as f64
    );
    assert!(total(&after, "db_pool_connections", &[("pool", "api")]) >= 1.0);
}

async fn metrics_need_credentials_on_the_api_port_and_none_on_their_own(db: TestDb) {
    let app = TestApp::start(db, |config| {
        config.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let anonymous = app.get("/metrics").await;
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        anonymous.json::<serde_json::Value>().await.unwrap()["detail"],
        "Authentication credentials were not provided."
    );

    let own = app.metrics_address.clone().expect("metrics_bind is served");
    let response = app
        .client
        .get(format!("{own}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let scraped = parse(&response.text().await.unwrap());
    assert_eq!(total(&scraped, "records", &[("table", "developers")]), 0.0);
    assert!(
        scraped.samples.iter().any(|sample| sample.metric == "jobs"),
        "the store's gauges"
    );
    // Only the metrics are there.
    let other = app
        .client
        .get(format!("{own}/github/"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

backend_tests!(
    the_counters_move_after_a_sync_against_github,
    metrics_need_credentials_on_the_api_port_and_none_on_their_own,
);
