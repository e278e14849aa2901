//! `/github/stats/` and `/github/dashboard/`: the figures of the store, its history, and
//! the page that draws them.

use std::time::Duration;

use chrono::Utc;
use gitomatic::db::restrictions::restrict_stmt;
use gitomatic::db::stats::RecordSample;
use gitomatic::db::{Db, Timestamp};
use gitomatic::jobs::{Task, history};
use gitomatic::with_pool;
use reqwest::StatusCode;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::{TestApp, TestDb, backend_tests};
use crate::seed;
use crate::sync::{SMALL, setup};

async fn profile_job(db: &Db, login: &str, status: &str, error: Option<&str>) -> Uuid {
    let task = Task::FullProfileSync {
        username: login.to_owned(),
    };
    let id = task.enqueue(db).await.unwrap().id();
    let run_at = Timestamp(Utc::now() + chrono::Duration::minutes(20));
    with_pool!(db, |pool| sqlx::query(
        "UPDATE jobs SET status = $1, last_error = $2, run_at = $3, \
         finished_at = CASE WHEN $1 = 'failed' THEN $3 END WHERE id = $4"
    )
    .bind(status)
    .bind(error)
    .bind(run_at)
    .bind(id)
    .execute(pool)
    .await
    .map(drop)
    .unwrap());
    id
}

fn hours_ago(hours: i64) -> Timestamp {
    history::bucket_of(Timestamp(Utc::now() - chrono::Duration::hours(hours)), 3600)
}

/// A store with a bit of everything: records some complete, jobs in each state, a quota,
/// a history, a list GitHub refuses.
async fn seeded(app: &TestApp) {
    let db = &app.db;
    for id in 1..=4 {
        let synced_at = (id <= 3).then(Timestamp::now);
        let dev = seed::Dev {
            synced_at,
            ..seed::dev(id, &format!("dev-{id}"))
        };
        seed::developer(db, dev).await;
    }
    profile_job(db, "waiting", "postponed", None).await;
    profile_job(db, "next", "queued", None).await;
    profile_job(db, "broken", "failed", Some("GitHub said <no> & more")).await;
    seed::rate_limit(db, "core", 5000, 4321, Utc::now().timestamp() + 1500).await;
    for (hours, developers) in [(30, 1), (20, 2)] {
        let sample = RecordSample {
            at: hours_ago(hours),
            developers,
            developers_complete: developers - 1,
            repositories: 0,
            repositories_complete: 0,
        };
        db.save_record_sample(&sample).await.unwrap();
    }
    db.add_github_requests(hours_ago(2), "core", 40)
        .await
        .unwrap();
    db.add_github_requests(hours_ago(2), "graphql", 7)
        .await
        .unwrap();
    db.add_github_requests(hours_ago(2), "core", 2)
        .await
        .unwrap();
    db.add_github_requests(hours_ago(2), "search", 3)
        .await
        .unwrap();
    db.add_github_requests(hours_ago(60), "core", 1)
        .await
        .unwrap();
    let refused = restrict_stmt(
        "token:0123",
        "stargazers",
        "403: Resource <not> accessible",
        Timestamp::now(),
    );
    db.run_in_transaction(&[refused]).await.unwrap();
}

async fn stats_sum_up_the_store(app: TestApp) {
    seeded(&app).await;
    let (status, stats) = app.json("/github/stats/").await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(
        stats["jobs"],
        json!({"queued": 1, "running": 0, "postponed": 1, "succeeded": 0, "failed": 1})
    );
    assert_eq!(stats["postponed"][0]["args"]["username"], "waiting");
    assert_eq!(stats["queued"][0]["args"]["username"], "next");
    assert_eq!(stats["running"], json!([]));
    assert_eq!(
        stats["failures"][0]["last_error"],
        "GitHub said <no> & more"
    );
    let quota = &stats["quotas"][0];
    assert_eq!(
        (&quota["resource"], &quota["limit"], &quota["remaining"]),
        (&json!("core"), &json!(5000), &json!(4321))
    );
    let restriction = &stats["restrictions"][0];
    assert_eq!(
        (
            &restriction["list"],
            &restriction["credential"],
            &restriction["answer"]
        ),
        (
            &json!("stargazers"),
            &json!("token:0123"),
            &json!("403: Resource <not> accessible")
        )
    );
    assert_eq!(restriction["since"], restriction["probed_at"]);
    let resets_in = quota["resets_in_seconds"].as_i64().unwrap();
    assert!((1400..=1500).contains(&resets_in), "{resets_in}");
    assert_eq!(
        stats["records"],
        json!({"developers": {"known": 4, "complete": 3},
               "repositories": {"known": 0, "complete": 0}})
    );
    let history: Vec<(i64, i64)> = stats["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["developers"].as_i64().unwrap(),
                s["developers_complete"].as_i64().unwrap(),
            )
        })
        .collect();
    // The app's own keeper may have sampled the store while it was being filled.
    assert_eq!(history[..2], [(1, 0), (2, 1)], "the samples");
    assert_eq!(history.last(), Some(&(4, 3)), "then now");
    let requests: Vec<(String, i64)> = stats["github_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["resource"].as_str().unwrap().to_owned(),
                h["requests"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        requests,
        [
            ("core".to_owned(), 42),
            ("graphql".to_owned(), 7),
            ("search".to_owned(), 3)
        ],
        "two days' worth, added up per hour"
    );
}

async fn the_dashboard_draws_jobs_quotas_and_charts(app: TestApp) {
    seeded(&app).await;
    let response = app.get_auth("/github/dashboard/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let page = response.text().await.unwrap();
    assert!(page.contains("<meta http-equiv=\"refresh\" content=\"60\">"));
    assert_eq!(page.matches("<svg class=\"chart\"").count(), 3, "{page}");
    for title in ["Developers", "Repositories", "GitHub requests per hour"] {
        assert!(page.contains(&format!("aria-label=\"{title}\"")), "{title}");
    }
    assert_eq!(page.matches("<polyline class=\"series\"").count(), 4);
    assert!(page.contains("<rect class=\"bar\""));
    // Search has no colour of its own: the legend says what the grey is, the bar's title
    // which resource.
    assert!(page.contains(">other</text>"), "{page}");
    assert!(page.contains(" search: 3</title></rect>"), "{page}");
    assert!(
        page.contains("core: 4,321 of 5,000 left, resets in 2"),
        "{page}"
    );
    assert!(page.contains("GitHub said &lt;no&gt; &amp; more"));
    assert!(
        page.contains(
            "<td>stargazers</td><td>token:0123</td><td>403: Resource &lt;not&gt; accessible</td>"
        ),
        "{page}"
    );
    assert!(!page.contains("<no>"));
    assert!(page.contains("full_profile_sync waiting</a>"));
    assert!(
        page.contains("(in 19 min)") || page.contains("(in 20 min)"),
        "when it resumes"
    );
    assert!(
        !page.contains("<script") && !page.contains("src="),
        "nothing to fetch"
    );

    let anonymous = app.get("/github/dashboard/").await;
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
    let browser = app
        .client
        .get(app.url("/github/dashboard/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(
        browser.status(),
        StatusCode::UNAUTHORIZED,
        "asks for a login"
    );
}

async fn the_history_is_kept_from_the_start(db: TestDb) {
    let s = setup(db, SMALL).await;
    s.syncer.sync_user("center").await.unwrap();
    let stop = CancellationToken::new();
    let keeper = tokio::spawn(history::keep(s.db.clone(), s.syncer.clone(), stop.clone()));
    let since = Timestamp(Utc::now() - chrono::Duration::hours(1));
    let mut samples = Vec::new();
    for _ in 0..250 {
        samples = s.db.record_samples_since(since).await.unwrap();
        if !samples.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    keeper.await.unwrap();
    assert_eq!(samples.len(), 1, "sampled at once");
    let sample = &samples[0];
    assert_eq!((sample.developers, sample.developers_complete), (1, 1));
    assert_eq!(sample.at.0.timestamp() % 600, 0, "in its ten-minute bucket");

    let hourly = s.db.github_requests_since(since).await.unwrap();
    let saved: i64 = hourly.iter().map(|hour| hour.requests).sum();
    assert_eq!(saved as usize, s.fake.requests().len(), "{hourly:?}");
    assert!(
        hourly
            .iter()
            .all(|hour| hour.hour.0.timestamp() % 3600 == 0)
    );
}

/// Records synced an hour, three days, ten days and forty days ago, and one never synced,
/// of each table: one in each bucket, in the stats, on the dashboard and in the metrics.
async fn records_are_counted_by_the_age_of_their_last_sync(app: TestApp) {
    let ago = |hours: i64| Some(Timestamp(Utc::now() - chrono::Duration::hours(hours)));
    let ages = [ago(1), ago(72), ago(240), ago(960), None];
    let owner = seed::developer(&app.db, seed::dev(1, "owner")).await;
    for (n, synced_at) in ages.into_iter().enumerate() {
        let n = n as i64 + 2;
        let dev = seed::Dev {
            synced_at,
            ..seed::dev(n, &format!("dev{n}"))
        };
        seed::developer(&app.db, dev).await;
        let repo = seed::Repo {
            synced_at,
            ..seed::repo(n, (owner, 1, "owner"), &format!("r{n}"))
        };
        seed::repository(&app.db, repo).await;
    }
    sample_anew(&app.db, 1).await;
    let (status, stats) = app.json("/github/stats/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        stats["freshness"]["repositories"],
        json!({"day": 1, "week": 1, "month": 1, "older": 1, "never": 1})
    );
    // The owner is known only from its repositories' lists: never synced.
    assert_eq!(
        stats["freshness"]["developers"],
        json!({"day": 1, "week": 1, "month": 1, "older": 1, "never": 2})
    );
    let page = dashboard_page(&app).await;
    assert!(page.contains("How fresh the records are"), "{page}");
    assert!(page.contains(
        "<tr><th>developers</th><td>1</td><td>1</td><td>1</td><td>1</td><td>2</td></tr>"
    ));
    let metrics = app.get_auth("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("records_by_age{table=\"developers\",age=\"never\"} 2"),
        "{metrics}"
    );
}

async fn dashboard_page(app: &TestApp) -> String {
    app.get_auth("/github/dashboard/")
        .await
        .text()
        .await
        .unwrap()
}

/// Samples the store into the `n`th ten-minute bucket of tomorrow: the app's own keeper has
/// taken this one, perhaps before the test's records were written, and may take the next
/// while the test runs; tomorrow's it does not reach.
async fn sample_anew(db: &Db, n: i64) {
    let later =
        Timestamp(Utc::now() + chrono::Duration::days(1) + chrono::Duration::minutes(10 * n));
    assert!(history::sample_records(db, history::bucket_of(later, 600)).await);
}

/// A complete developer with GitHub's counts of its followers and following.
async fn counted(db: &Db, github_id: i64, followers: i64, following: i64) -> Uuid {
    let dev = seed::Dev {
        followers_count: Some(followers),
        following_count: Some(following),
        synced_at: Some(Timestamp::now()),
        ..seed::dev(github_id, &format!("dev{github_id}"))
    };
    seed::developer(db, dev).await
}

/// Edges stored against GitHub's counts, over the complete records GitHub still has, counted
/// with the ten-minute sample and read from the newest: later records wait for the next.
async fn the_graph_is_measured_against_githubs_counts(app: TestApp) {
    let db = &app.db;
    let a = counted(db, 1, 3, 1).await;
    let b = counted(db, 2, 0, 2).await;
    let c = seed::developer(db, seed::dev(3, "listed")).await;
    let gone = counted(db, 4, 100, 100).await;
    with_pool!(db, |pool| sqlx::query(
        "UPDATE developers SET gone_at = $1 WHERE id = $2"
    )
    .bind(Timestamp::now())
    .bind(gone)
    .execute(pool)
    .await
    .map(drop)
    .unwrap());
    for (follower, followee) in [(b, a), (c, a), (a, c), (gone, a), (a, gone)] {
        seed::follow(db, follower, followee).await;
    }
    let repo = seed::Repo {
        stargazers_count: Some(4),
        synced_at: Some(Timestamp::now()),
        ..seed::repo(10, (a, 1, "dev1"), "starred")
    };
    let repo = seed::repository(db, repo).await;
    let listed = seed::repository(db, seed::repo(11, (a, 1, "dev1"), "listed")).await;
    for (developer, repository) in [(b, repo), (c, repo), (b, listed)] {
        seed::star(db, developer, repository).await;
    }
    let measured = json!({
        // A's three, one of them since gone; not the gone one's own.
        "followers": {"stored": 3, "github": 3},
        // B's one and A's two.
        "following": {"stored": 3, "github": 3},
        "stargazers": {"stored": 2, "github": 4},
    });
    sample_anew(db, 1).await;
    let (status, stats) = app.json("/github/stats/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["completeness"], measured);
    assert_eq!(stats["freshness"]["developers"]["day"], 3);

    counted(db, 5, 10, 0).await;
    let (_, later) = app.json("/github/stats/").await;
    assert_eq!(later["completeness"], measured, "until the next sample");
    assert_eq!(later["freshness"]["developers"]["day"], 3);
    assert_eq!(later["figures_at"], stats["figures_at"]);
    assert_eq!(
        later["records"]["developers"]["complete"], 4,
        "counted live"
    );
    sample_anew(db, 2).await;
    let (_, next) = app.json("/github/stats/").await;
    assert_eq!(
        next["completeness"]["followers"]["github"], 13,
        "the next sample"
    );
    assert_eq!(next["freshness"]["developers"]["day"], 4);
    let page = dashboard_page(&app).await;
    assert!(
        page.contains("<tr><th>stargazers</th><td>2</td><td>4</td><td>50.0 %</td></tr>"),
        "{page}"
    );
    let metrics = app.get_auth("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("graph_edges{list=\"followers\",side=\"github\"} 13"),
        "{metrics}"
    );
    assert!(metrics.contains("graph_edges{list=\"stargazers\",side=\"stored\"} 2"));
}

backend_tests!(
    stats_sum_up_the_store,
    the_dashboard_draws_jobs_quotas_and_charts,
    the_history_is_kept_from_the_start,
    records_are_counted_by_the_age_of_their_last_sync,
    the_graph_is_measured_against_githubs_counts,
);
