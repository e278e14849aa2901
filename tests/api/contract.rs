//! Contract fuzzing: schemathesis (someone else's tool) generates requests from our OpenAPI
//! document, valid and invalid, and checks every answer against the same document: no 5xx,
//! no undocumented status, bodies and headers as documented. Needs schemathesis, so it runs
//! from `scripts/contract.sh`, which installs it and sets `SCHEMATHESIS`.

use std::process::Command;

use base64::Engine;
use reqwest::StatusCode;

use crate::helpers::{Backend, Fixture, TestApp, TestDb};
use crate::seed::{self, at, dev};

/// Records the detail routes can be fuzzed with.
struct Seeded {
    developer: uuid::Uuid,
    repository: uuid::Uuid,
    job: String,
}

/// A little of everything the API serves: developers with and without profiles, followers,
/// repositories with stargazers, rate limits, and a queued job.
async fn seed_graph(app: &TestApp) -> Seeded {
    let db = &app.db;
    let mut developers = Vec::new();
    for n in 1..=25_i64 {
        let mut d = dev(n, &format!("dev-{n}"));
        if n % 4 != 0 {
            d.name = Some(format!("Developer Ünïcode {n}"));
            d.bio = (n % 2 == 0).then(|| format!("Writes code, number {n}"));
            d.location = Some(["Lisbon", "Osaka", "Lagos"][n as usize % 3].to_owned());
            d.created_at = at(&format!("20{:02}-03-04T05:06:07Z", 8 + n % 12));
            d.updated_at = at("2020-09-29T09:20:44Z");
            d.followers_count = Some(n % 5);
            d.following_count = Some(n % 3);
            d.public_gists = Some(n);
            d.public_repos = Some(1);
            d.synced_at = at("2020-10-01T00:00:00Z");
        }
        developers.push((seed::developer(db, d).await, n));
    }
    for (i, (follower, _)) in developers.iter().enumerate() {
        for (followee, _) in developers.iter().skip(i + 1).step_by(3) {
            seed::follow(db, *follower, *followee).await;
        }
    }
    let mut repositories = Vec::new();
    for (i, &(owner, github_id)) in developers.iter().enumerate().take(15) {
        let mut repo = seed::repo(
            1000 + github_id,
            (owner, github_id, &format!("dev-{github_id}")),
            "project",
        );
        repo.language = Some(["Rust", "Python"][i % 2].to_owned());
        repo.description = (i % 3 != 0).then(|| "A project".to_owned());
        repo.created_at = at("2019-01-02T03:04:05Z");
        repo.stargazers_count = Some(i as i64);
        let repository = seed::repository(db, repo).await;
        for (developer, _) in developers.iter().take(i) {
            seed::star(db, *developer, repository).await;
        }
        repositories.push(repository);
    }
    seed::rate_limit(db, "core", 5000, 4999, 1_700_000_000).await;
    seed::rate_limit(db, "search", 30, 30, 1_700_000_000).await;
    let queued = app
        .client
        .post(app.url("/github/tasks/"))
        .basic_auth(crate::helpers::USER, Some(crate::helpers::PASSWORD))
        .json(&serde_json::json!({"name": "full_profile_sync", "username": "dev-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), StatusCode::OK);
    let queued: serde_json::Value = queued.json().await.unwrap();
    let job = queued["job"].as_str().unwrap().trim_end_matches('/');
    Seeded {
        // Followed by many, following many, owning a starred repository.
        developer: developers[1].0,
        repository: repositories[14],
        job: job.rsplit('/').next().unwrap().to_owned(),
    }
}

async fn fuzz(backend: Backend) {
    let st = std::env::var("SCHEMATHESIS").expect("SCHEMATHESIS names the st executable");
    let Some(db) = TestDb::create(backend).await else {
        eprintln!("skipped on {backend:?}: TEST_DATABASE_URL is not set");
        return;
    };
    // No workers: posted tasks stay queued instead of calling GitHub. The fuzzer sends wrong
    // credentials on purpose, hundreds of times a minute, and checks they get 401/403: the
    // login throttle (tested in auth.rs) would answer 429 instead, so it is off here.
    let app = TestApp::start(db, |config| config.login_failures_per_minute = 0).await;
    let seeded = seed_graph(&app).await;
    let (_, token) = app.json("/github/auth_token/").await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        crate::helpers::USER,
        crate::helpers::PASSWORD
    ));
    let examples = std::env::var("SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "25".to_owned());
    let report = format!(
        "{}/target/schemathesis/{backend:?}.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut command = Command::new(st);
    command
        .args([
            "--config-file",
            concat!(env!("CARGO_MANIFEST_DIR"), "/schemathesis.toml"),
        ])
        .arg("run")
        .arg(app.url("/github/swagger.json"))
        .args(["--url", &app.address])
        .env("GITOMATIC_TOKEN", token["auth_token"].as_str().unwrap())
        .env("GITOMATIC_BASIC", basic)
        .env("GITOMATIC_DEVELOPER_ID", seeded.developer.to_string())
        .env("GITOMATIC_REPOSITORY_ID", seeded.repository.to_string())
        .env("GITOMATIC_JOB_ID", seeded.job)
        .args(["--max-examples", &examples])
        .args(["--report-junit-path", &report])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    // The app answers from this test's runtime: wait for schemathesis off it.
    let status = tokio::task::spawn_blocking(move || command.status())
        .await
        .unwrap()
        .expect("schemathesis runs");
    assert!(
        status.success(),
        "schemathesis found failures (report: {report})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs schemathesis: scripts/contract.sh"]
async fn schemathesis_finds_nothing_on_sqlite() {
    fuzz(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs schemathesis: scripts/contract.sh"]
async fn schemathesis_finds_nothing_on_postgres() {
    fuzz(Backend::Postgres).await;
}
