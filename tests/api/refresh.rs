//! `name=refresh`: one stored record re-read now, against the fake GitHub over HTTP. An
//! unchanged record costs one free conditional request and is marked checked; a changed
//! one is updated, and its lists read again when its counts moved; a record GitHub no
//! longer has is marked gone.

use chrono::Utc;
use gitomatic::db::{Db, Timestamp};
use gitomatic::sync::{Due, Steps};
use gitomatic::with_pool;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::aging::age_everything;
use crate::fake_github::Graph;
use crate::helpers::{PASSWORD, TestApp, TestDb, USER, backend_tests};
use crate::sync::{SMALL, Setup, a_follower_leaves, expected, setup, setup_with, stored};

backend_tests!(
    a_refresh_of_an_unchanged_developer_costs_no_quota,
    a_refresh_finds_a_changed_profile_and_reads_its_lists_again,
    a_refresh_of_an_unchanged_repository_costs_no_quota,
    a_refresh_marks_a_developer_github_no_longer_has,
    refresh_is_a_task,
    a_refresh_pass_costs_quota_only_for_the_records_that_changed,
    the_refresh_leaves_discovery_its_share_of_the_window,
    with_graphql_the_refresh_reads_a_hundred_profiles_a_point,
);

/// When the record of `login` in `table` (by `key`) was last synced.
async fn synced_at(db: &Db, table: &str, key: &str, value: &str) -> Option<Timestamp> {
    let sql = format!("SELECT synced_at FROM {table} WHERE {key} = $1");
    with_pool!(db, |pool| sqlx::query_scalar(&sql)
        .bind(value)
        .fetch_one(pool)
        .await
        .unwrap())
}

async fn synced_center(db: TestDb) -> Setup {
    aged_center(setup(db, SMALL).await).await
}

/// `s` once the center is synced in full, every record synced ten days ago, and the
/// requests forgotten.
async fn aged_center(s: Setup) -> Setup {
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    age_everything(&s.db).await.unwrap();
    s.fake.clear_requests();
    s
}

fn just_now(at: Option<Timestamp>) -> bool {
    at.is_some_and(|at| Utc::now() - at.0 < chrono::Duration::minutes(1))
}

async fn a_refresh_of_an_unchanged_developer_costs_no_quota(db: TestDb) {
    let s = synced_center(db).await;
    let before = stored(&s.db).await;
    s.syncer
        .refresh_developer("center", &Steps::new())
        .await
        .unwrap();
    let requests = s.fake.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].status, 304);
    assert!(!requests[0].counted, "a 304 costs no quota");
    assert!(just_now(
        synced_at(&s.db, "developers", "login", "center").await
    ));
    assert_eq!(stored(&s.db).await, before);
}

async fn a_refresh_finds_a_changed_profile_and_reads_its_lists_again(db: TestDb) {
    let s = synced_center(db).await;
    let (center, leaver) = a_follower_leaves(&s.fake);
    s.syncer
        .refresh_developer("center", &Steps::new())
        .await
        .unwrap();
    let after = stored(&s.db).await.follows_of(center);
    assert!(!after.contains(&(leaver, center)), "its lists read again");
    assert_eq!(
        after,
        expected(&s.fake.graph(), "center").follows_of(center)
    );
    assert!(just_now(
        synced_at(&s.db, "developers", "login", "center").await
    ));
}

async fn a_refresh_of_an_unchanged_repository_costs_no_quota(db: TestDb) {
    let s = synced_center(db).await;
    let graph = s.fake.graph();
    let center = graph.user("center").unwrap().id;
    let repo = graph.repos_of(center)[0].name.clone();
    // Its own page read once (a list showed it), then checked again later.
    s.syncer
        .refresh_repository("center", &repo, &Steps::new())
        .await
        .unwrap();
    age_everything(&s.db).await.unwrap();
    s.fake.clear_requests();
    s.syncer
        .refresh_repository("center", &repo, &Steps::new())
        .await
        .unwrap();
    let requests = s.fake.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!((requests[0].status, requests[0].counted), (304, false));
    let full_name = format!("center/{repo}");
    assert!(just_now(
        synced_at(&s.db, "repositories", "full_name", &full_name).await
    ));
}

async fn a_refresh_marks_a_developer_github_no_longer_has(db: TestDb) {
    let s = synced_center(db).await;
    let graph = s.fake.graph();
    let followee = graph.following_of(graph.user("center").unwrap().id)[0];
    let login = graph
        .users
        .iter()
        .find(|u| u.id == followee)
        .unwrap()
        .login
        .clone();
    s.syncer
        .full_profile_sync(&login, &Steps::new())
        .await
        .unwrap();
    s.fake
        .update_graph(|g| g.users.retain(|u| u.id != followee));
    s.syncer
        .refresh_developer(&login, &Steps::new())
        .await
        .unwrap();
    let gone: Option<Timestamp> = with_pool!(&s.db, |pool| sqlx::query_scalar(
        "SELECT gone_at FROM developers WHERE login = $1"
    )
    .bind(&login)
    .fetch_one(pool)
    .await
    .unwrap());
    assert!(gone.is_some(), "marked gone");
}

/// POSTed as a task: a developer, or their repository; a bad name is the original's 406.
async fn refresh_is_a_task(app: TestApp) {
    let post = |body: &'static [(&'static str, &'static str)]| {
        let request = app.client.post(app.url("/github/tasks/")).form(body);
        async move {
            let response = request
                .basic_auth(USER, Some(PASSWORD))
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let developer: &[(&str, &str)] = &[("name", "refresh"), ("username", "octocat")];
    let repository: &[(&str, &str)] = &[
        ("name", "refresh"),
        ("username", "octocat"),
        ("repo_name", "hello"),
    ];
    for (body, args) in [
        (developer, json!({"username": "octocat"})),
        (
            repository,
            json!({"username": "octocat", "repo_name": "hello"}),
        ),
    ] {
        let (status, answer) = post(body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let job = answer["job"].as_str().unwrap();
        let (_, job) = app.json(job.strip_prefix(&app.address).unwrap()).await;
        assert_eq!(job["name"], "refresh");
        assert_eq!(job["args"], args);
    }
    // JSON's null is no repository, as an empty field is.
    let response = app
        .client
        .post(app.url("/github/tasks/"))
        .json(&json!({"name": "refresh", "username": "octocat", "repo_name": null}))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    let job = answer["job"].as_str().unwrap();
    let (_, job) = app.json(job.strip_prefix(&app.address).unwrap()).await;
    assert_eq!(job["args"], json!({"username": "octocat"}));
    let (status, answer) = post(&[("name", "refresh"), ("username", "-bad")]).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{answer}");
    let (status, answer) = post(&[("name", "refresh")]).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{answer}");
}

/// The logins of the developers synced (each a record the refresh re-checks).
async fn synced_logins(db: &Db) -> Vec<String> {
    with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT login FROM developers WHERE synced_at IS NOT NULL ORDER BY login"
    )
    .fetch_all(pool)
    .await
    .unwrap())
}

/// A tenth of the synced developers change their name on GitHub: the logins due, and those
/// changed.
async fn a_tenth_renamed(s: &Setup) -> (Vec<String>, Vec<String>) {
    let due = synced_logins(&s.db).await;
    let changed: Vec<String> = due.iter().step_by(10).cloned().collect();
    s.fake.update_graph(|g| {
        for user in g.users.iter_mut().filter(|u| changed.contains(&u.login)) {
            user.name = Some(format!("{} renamed", user.login));
        }
    });
    (due, changed)
}

/// Every developer due was checked just now, and the renamed have their new names.
async fn all_checked_and_renamed(db: &Db, due: &[String], changed: &[String]) {
    for login in due {
        assert!(
            just_now(synced_at(db, "developers", "login", login).await),
            "{login}"
        );
    }
    let renamed: Option<String> = with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT name FROM developers WHERE login = $1"
    )
    .bind(&changed[0])
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(renamed, Some(format!("{} renamed", changed[0])));
}

const EVERY_DUE: Due = Due {
    days: 7,
    batch: 10_000,
    share: 1.0,
};

/// A tenth of the synced developers change their name on GitHub: a refresh pass asks for
/// every record due once, and only the changed ones cost quota.
async fn a_refresh_pass_costs_quota_only_for_the_records_that_changed(db: TestDb) {
    let s = synced_center(db).await;
    let (due, changed) = a_tenth_renamed(&s).await;
    s.syncer.refresh_due(&EVERY_DUE).await.unwrap();
    let requests = s.fake.requests();
    let spent = requests.iter().filter(|r| r.counted).count();
    eprintln!(
        "{} records due, {} changed: {} requests, {spent} of them spending quota \
         ({:.2} a record refreshed)",
        due.len(),
        changed.len(),
        requests.len(),
        spent as f64 / due.len() as f64
    );
    assert_eq!(requests.len(), due.len(), "one request a record");
    assert_eq!(spent, changed.len(), "quota only for the changed");
    all_checked_and_renamed(&s.db, &due, &changed).await;

    s.fake.clear_requests();
    s.syncer.refresh_due(&EVERY_DUE).await.unwrap();
    assert!(s.fake.requests().is_empty(), "nothing due any more");
}

/// Once less than `1 - share` of the REST window is left, the refresh stops for discovery.
async fn the_refresh_leaves_discovery_its_share_of_the_window(db: TestDb) {
    let s = synced_center(db).await;
    let reset = Utc::now().timestamp() + 3600;
    s.fake.set_quota(5_000, 3_000, reset);
    let share = Due {
        share: 0.25,
        ..EVERY_DUE
    };
    s.syncer.refresh_due(&share).await.unwrap();
    assert_eq!(
        s.fake.requests().len(),
        1,
        "the first answer shows the window spent"
    );
    s.fake.clear_requests();
    s.syncer.refresh_due(&share).await.unwrap();
    assert!(s.fake.requests().is_empty());
    s.fake.set_quota(5_000, 5_000, reset);
    s.syncer.refresh_due(&EVERY_DUE).await.unwrap();
    assert!(
        !s.fake.requests().is_empty(),
        "a fresh window: the refresh goes on"
    );
}

/// The synced repositories (each a record the refresh re-checks).
async fn synced_repositories(db: &Db) -> usize {
    let count: i64 = with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM repositories WHERE synced_at IS NOT NULL"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    count as usize
}

/// With GraphQL, the developers due are re-read a hundred profiles to a query of one point
/// (the repositories still one conditional REST request each): renamed ones are updated,
/// and one whose counts moved has its lists read again.
async fn with_graphql_the_refresh_reads_a_hundred_profiles_a_point(db: TestDb) {
    let s = aged_center(setup_with(db, Graph::generate(SMALL), |_| {}).await).await;
    let repositories = synced_repositories(&s.db).await;
    let (due, changed) = a_tenth_renamed(&s).await;
    s.syncer.refresh_due(&EVERY_DUE).await.unwrap();
    let requests = s.fake.requests();
    // The repositories' own pages; their star histories are read besides.
    let (graphql, rest): (Vec<_>, Vec<_>) = requests
        .iter()
        .filter(|r| !r.path_and_query.contains("/stargazers/history"))
        .partition(|r| r.path_and_query.starts_with("/graphql"));
    let points: i64 = graphql.iter().map(|r| r.points).sum();
    let spent = rest.iter().filter(|r| r.counted).count();
    eprintln!(
        "{} developers due ({} changed): {} GraphQL queries, {points} points; {repositories} \
         repositories due: {} REST requests, {spent} spending quota",
        due.len(),
        changed.len(),
        graphql.len(),
        rest.len()
    );
    assert_eq!(graphql.len(), due.len().div_ceil(100), "{graphql:?}");
    assert!(
        graphql
            .iter()
            .all(|r| r.operation.as_deref() == Some("Profiles"))
    );
    assert_eq!(points as usize, graphql.len(), "a point a hundred");
    assert_eq!(rest.len(), repositories, "{rest:?}");
    assert_eq!(spent, 0, "the repositories are unchanged");
    all_checked_and_renamed(&s.db, &due, &changed).await;

    age_everything(&s.db).await.unwrap();
    let (center, leaver) = a_follower_leaves(&s.fake);
    s.syncer.refresh_due(&EVERY_DUE).await.unwrap();
    let after = stored(&s.db).await.follows_of(center);
    assert!(!after.contains(&(leaver, center)), "its lists read again");
    assert_eq!(
        after,
        expected(&s.fake.graph(), "center").follows_of(center)
    );
}
