//! GitHub's star history against the fake over HTTP: read whole once, then its latest page
//! with each read of the repository (a 304 when nothing changed), also while the stargazer
//! lists are refused, and served newest first with running totals.

use chrono::Utc;
use gitomatic::config::Config;
use gitomatic::db::star_history::{StarWeek, star_weeks_stmts};
use gitomatic::db::{Db, Timestamp};
use gitomatic::sync::Steps;
use gitomatic::with_pool;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::fake_github::star_history::{WEEKS_A_PAGE, Week, weeks};
use crate::fake_github::{FakeGitHub, Graph, Restrictions};
use crate::helpers::{PASSWORD, TestApp, TestDb, USER, backend_tests};
use crate::seed;
use crate::sync::{SMALL, Setup, rest_only, setup_with};

backend_tests!(
    the_star_history_is_githubs_weeks,
    the_star_history_is_read_while_stargazer_lists_are_refused,
    a_refresh_asks_only_the_latest_page_conditionally,
    a_refresh_long_after_the_last_reads_back_to_the_weeks_stored,
    a_repository_with_few_stars_has_no_history_read,
    the_star_history_is_served_newest_first_with_running_totals,
);

/// GitHub's weeks of the repository `id`, as the fake serves them now.
fn githubs_weeks(fake: &FakeGitHub, id: i64) -> Vec<Week> {
    let graph = fake.graph();
    let starred = graph
        .stars
        .iter()
        .filter(|(_, repo, _)| *repo == id)
        .map(|(_, _, at)| at.as_str());
    weeks(starred, Utc::now().timestamp())
}

/// The weeks stored of the repository with GitHub id `id`, newest first: (Unix seconds of
/// the week's start, stars).
async fn stored_weeks(db: &Db, id: i64) -> Vec<(i64, i64)> {
    let rows: Vec<(Timestamp, i64)> = with_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT w.week, w.stars FROM star_weeks w JOIN repositories r ON r.id = w.repository_id \
         WHERE r.github_id = $1 ORDER BY w.week DESC"
    )
    .bind(id)
    .fetch_all(pool)
    .await
    .unwrap()
    });
    rows.into_iter()
        .map(|(week, stars)| (week.0.timestamp(), stars))
        .collect()
}

/// Each stored week of the repository with GitHub id `id` keeps the stars from it to the
/// latest week, and only the earliest is marked first.
async fn assert_running_totals(db: &Db, id: i64) {
    let rows: Vec<(i64, i64, bool)> = with_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT w.stars, w.since_total, w.first_week FROM star_weeks w \
             JOIN repositories r ON r.id = w.repository_id WHERE r.github_id = $1 \
             ORDER BY w.week DESC",
        )
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap()
    });
    let mut since = 0;
    for (index, (stars, since_total, first)) in rows.iter().enumerate() {
        since += stars;
        assert_eq!(*since_total, since, "week {index} from the latest");
        assert_eq!(
            *first,
            index + 1 == rows.len(),
            "week {index} from the latest"
        );
    }
}

/// The center's repository with the most stars: its GitHub id, owner and name.
fn starred_most(fake: &FakeGitHub) -> (i64, String, String) {
    let graph = fake.graph();
    let center = graph.user("center").unwrap().id;
    let repo = graph
        .repos_of(center)
        .into_iter()
        .max_by_key(|repo| graph.stars.iter().filter(|s| s.1 == repo.id).count())
        .unwrap()
        .clone();
    (repo.id, "center".to_owned(), repo.name)
}

/// History requests sent since the last clear.
fn history_requests(s: &Setup) -> Vec<(u16, bool)> {
    s.fake
        .requests()
        .into_iter()
        .filter(|r| r.path_and_query.contains("/stargazers/history"))
        .map(|r| (r.status, r.counted))
        .collect()
}

async fn synced(db: TestDb, configure: impl FnOnce(&mut Config)) -> (Setup, (i64, String, String)) {
    let s = setup_with(db, Graph::generate(SMALL), configure).await;
    let repo = starred_most(&s.fake);
    s.syncer
        .full_repository_sync(&repo.1, &repo.2, &Steps::new())
        .await
        .unwrap();
    (s, repo)
}

/// Stored as GitHub gives it, every week from the first star's to this one, one request a
/// page; the stars sum to the repository's count.
async fn the_star_history_is_githubs_weeks(db: TestDb) {
    let (s, (id, ..)) = synced(db, rest_only).await;
    let github = githubs_weeks(&s.fake, id);
    let expected: Vec<(i64, i64)> = github.iter().map(|w| (w.start, w.stars())).collect();
    assert!(expected.len() > WEEKS_A_PAGE, "{} weeks", expected.len());
    assert_eq!(stored_weeks(&s.db, id).await, expected);
    let pages = history_requests(&s);
    eprintln!("{} weeks: {} requests", expected.len(), pages.len());
    assert_eq!(pages.len(), expected.len().div_ceil(WEEKS_A_PAGE));
    let stars: i64 = expected.iter().map(|w| w.1).sum();
    let count: Option<i64> = with_pool!(&s.db, |pool| sqlx::query_scalar(
        "SELECT stargazers_count FROM repositories WHERE github_id = $1"
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(Some(stars), count);
}

async fn the_star_history_is_read_while_stargazer_lists_are_refused(db: TestDb) {
    let s = setup_with(db, Graph::generate(SMALL), rest_only).await;
    s.fake.restrict_stargazers(Restrictions::everywhere());
    let (id, owner, name) = starred_most(&s.fake);
    s.syncer
        .full_repository_sync(&owner, &name, &Steps::new())
        .await
        .unwrap();
    let expected: Vec<(i64, i64)> = githubs_weeks(&s.fake, id)
        .iter()
        .map(|w| (w.start, w.stars()))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(stored_weeks(&s.db, id).await, expected);
}

/// Once the whole history is stored, a refresh of the repository asks the latest page
/// alone: a free 304 while nothing changed; a new star is then in this week.
async fn a_refresh_asks_only_the_latest_page_conditionally(db: TestDb) {
    let (s, (id, owner, name)) = synced(db, rest_only).await;
    s.fake.clear_requests();
    s.syncer
        .refresh_repository(&owner, &name, &Steps::new())
        .await
        .unwrap();
    assert_eq!(history_requests(&s), [(304, false)], "one free request");

    let graph = s.fake.graph();
    let newcomer = graph
        .users
        .iter()
        .find(|u| {
            !graph
                .stars
                .iter()
                .any(|star| star.0 == u.id && star.1 == id)
        })
        .unwrap()
        .id;
    let now = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    s.fake.update_graph(|g| g.stars.push((newcomer, id, now)));
    s.fake.clear_requests();
    s.syncer
        .refresh_repository(&owner, &name, &Steps::new())
        .await
        .unwrap();
    // The stars moved, so the refresh syncs the repository in full: it reads the page
    // again, a 304 by then.
    let pages: Vec<String> = s
        .fake
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .filter(|path| path.contains("/stargazers/history"))
        .collect();
    assert!(
        pages.iter().all(|p| !p.contains("&page=")),
        "the latest page only: {pages:?}"
    );
    let asked = history_requests(&s);
    assert_eq!(asked.iter().filter(|r| r.1).count(), 1, "{asked:?}");
    let github = githubs_weeks(&s.fake, id);
    let stored = stored_weeks(&s.db, id).await;
    assert_eq!(stored[0], (github[0].start, github[0].stars()));
    assert!(github[0].stars() >= 1, "this week's star");
    assert_eq!(stored.len(), github.len());
    assert_running_totals(&s.db, id).await;
}

/// A history last read more than a page of weeks ago: its latest page does not reach the
/// weeks stored, so the pages after it are read until they do, and no week is missing.
async fn a_refresh_long_after_the_last_reads_back_to_the_weeks_stored(db: TestDb) {
    let (s, (id, owner, name)) = synced(db, rest_only).await;
    let github = githubs_weeks(&s.fake, id);
    assert!(github.len() > WEEKS_A_PAGE + 1, "{} weeks", github.len());
    // As it was stored WEEKS_A_PAGE + 1 weeks ago; GitHub's page has changed since.
    let latest_kept =
        Timestamp(chrono::DateTime::from_timestamp(github[WEEKS_A_PAGE + 1].start, 0).unwrap());
    with_pool!(&s.db, |pool| {
        sqlx::query("DELETE FROM star_weeks WHERE week > $1")
            .bind(latest_kept)
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM http_cache WHERE url LIKE '%/stargazers/history%'")
            .execute(pool)
            .await
            .unwrap();
    });
    s.fake.clear_requests();
    s.syncer
        .refresh_repository(&owner, &name, &Steps::new())
        .await
        .unwrap();
    let expected: Vec<(i64, i64)> = github.iter().map(|w| (w.start, w.stars())).collect();
    assert_eq!(stored_weeks(&s.db, id).await, expected, "no week missing");
    assert_eq!(
        history_requests(&s).len(),
        2,
        "the latest page and the one after"
    );
    assert_running_totals(&s.db, id).await;
}

async fn a_repository_with_few_stars_has_no_history_read(db: TestDb) {
    let (s, (id, ..)) = synced(db, |config| {
        config.github_graphql = false;
        config.star_history_stars = 1_000_000;
    })
    .await;
    assert!(history_requests(&s).is_empty());
    assert!(stored_weeks(&s.db, id).await.is_empty());
}

async fn the_star_history_is_served_newest_first_with_running_totals(app: TestApp) {
    let db = &app.db;
    let owner = seed::developer(db, seed::dev(1, "owner")).await;
    let repo = seed::repository(db, seed::repo(10, (owner, 1, "owner"), "stars")).await;
    let sunday = |n: i64| {
        Timestamp(chrono::DateTime::from_timestamp(1_700_352_000 + n * 604_800, 0).unwrap())
    };
    let weeks: Vec<StarWeek> = [3, 0, 5, 2]
        .iter()
        .enumerate()
        .map(|(n, &stars)| StarWeek {
            week: sunday(n as i64),
            stars,
        })
        .collect();
    db.run_in_transaction(&star_weeks_stmts(10, &weeks, true, Timestamp::now()))
        .await
        .unwrap();
    let (status, page) = app
        .json(&format!("/github/repositories/{repo}/star_history/"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["count"], 4);
    assert_eq!(
        page["results"],
        json!([
            {"week": "2023-12-10", "stars": 2, "total": 10},
            {"week": "2023-12-03", "stars": 5, "total": 8},
            {"week": "2023-11-26", "stars": 0, "total": 3},
            {"week": "2023-11-19", "stars": 3, "total": 3},
        ])
    );
    let (status, _) = app
        .json(&format!(
            "/github/repositories/{}/star_history/",
            Uuid::new_v4()
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The repository's HTML page shows the chart, an SVG image of its own.
    let page = app
        .client
        .get(app.url(&format!("/github/repositories/{repo}/")))
        .header("accept", "text/html")
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<img src=\"star_history.svg\""), "{page}");
    let chart = |id: Uuid| {
        app.client
            .get(app.url(&format!("/github/repositories/{id}/star_history.svg")))
            .basic_auth(USER, Some(PASSWORD))
            .send()
    };
    let answer = chart(repo).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["content-type"], "image/svg+xml");
    let svg = answer.text().await.unwrap();
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.contains("<polyline"), "{svg}");
    let bare = seed::repository(db, seed::repo(11, (owner, 1, "owner"), "bare")).await;
    let svg = chart(bare).await.unwrap().text().await.unwrap();
    assert!(svg.contains("nothing recorded yet"), "{svg}");
    assert_eq!(
        chart(Uuid::new_v4()).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}
