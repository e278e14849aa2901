//! Repository sizes against the fake GitHub over HTTP: stored as GitHub reports them over
//! REST and over GraphQL, summed per owner, kept as a history of changes, and filtered and
//! ordered through the API.

use std::collections::HashMap;

use gitomatic::db::developers::ListedDeveloper;
use gitomatic::db::repositories::{
    RepositoryCounts, RepositoryDetails, RepositoryRecord, Source, upsert_repositories_stmts,
};
use gitomatic::db::sizes::sizes_stmts;
use gitomatic::db::star_history::{StarWeek, star_weeks_stmts};
use gitomatic::db::{Db, Timestamp};
use gitomatic::jobs::history;
use gitomatic::sync::Steps;
use gitomatic::with_pool;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fake_github::Graph;
use crate::helpers::{TestApp, TestDb, backend_tests};
use crate::seed;
use crate::sync::{SMALL, Setup, setup, setup_with};

backend_tests!(
    sizes_are_githubs_after_a_rest_sync,
    sizes_are_githubs_after_a_graphql_sync,
    a_resync_keeps_history_only_for_the_sizes_that_changed,
    sizes_filter_and_order_the_lists,
    the_space_is_summed_in_the_stats_dashboard_and_metrics,
    growth_since_a_day_is_added_and_orders_the_list,
    the_most_stars_gained_are_read_in_order_across_pages,
    a_moved_repository_takes_its_size_to_its_new_owner,
);

/// The stored sizes by GitHub id.
async fn stored_sizes(db: &Db) -> HashMap<i64, Option<i64>> {
    let rows: Vec<(i64, Option<i64>)> = with_pool!(db, |pool| sqlx::query_as(
        "SELECT github_id, size FROM repositories"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    rows.into_iter().collect()
}

/// Each developer's stored totals by GitHub id: the sum of their stored repositories, and
/// GitHub's (GraphQL's) figure.
async fn stored_totals(db: &Db) -> HashMap<i64, (Option<i64>, Option<i64>)> {
    let rows: Vec<(i64, Option<i64>, Option<i64>)> = with_pool!(db, |pool| sqlx::query_as(
        "SELECT github_id, repositories_size, github_repositories_size FROM developers"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    rows.into_iter().map(|(id, a, b)| (id, (a, b))).collect()
}

/// Every stored repository has GitHub's size, and each owner the sum of theirs stored.
async fn sizes_match(s: &Setup, graph: &Graph) -> HashMap<i64, (Option<i64>, Option<i64>)> {
    let sizes = stored_sizes(&s.db).await;
    assert!(sizes.len() > 5, "{sizes:?}");
    let mut owned: HashMap<i64, i64> = HashMap::new();
    for repo in &graph.repos {
        if let Some(stored) = sizes.get(&repo.id) {
            assert_eq!(*stored, Some(repo.size), "{}", repo.name);
            *owned.entry(repo.owner_id).or_default() += repo.size;
        }
    }
    let totals = stored_totals(&s.db).await;
    for (owner, sum) in &owned {
        assert_eq!(totals[owner].0, Some(*sum), "the total of {owner}");
    }
    totals
}

async fn sizes_are_githubs_after_a_rest_sync(db: TestDb) {
    let s = setup(db, SMALL).await;
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let totals = sizes_match(&s, &s.fake.graph()).await;
    assert!(
        totals.values().all(|(_, github)| github.is_none()),
        "REST's profile has no total"
    );
}

/// Over GraphQL (`diskUsage` in the lists, `totalDiskUsage` in the profiles): the same
/// sizes, and GitHub's own total of each developer whose profile GraphQL read.
async fn sizes_are_githubs_after_a_graphql_sync(db: TestDb) {
    let s = setup_with(db, Graph::generate(SMALL), |_| {}).await;
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let graphql = s.fake.requests();
    assert!(
        graphql
            .iter()
            .any(|r| r.path_and_query.starts_with("/graphql"))
    );
    let graph = s.fake.graph();
    let totals = sizes_match(&s, &graph).await;
    let mut from_github = 0;
    for user in &graph.users {
        if let Some((_, Some(github))) = totals.get(&user.id) {
            let all: i64 = graph.repos_of(user.id).iter().map(|r| r.size).sum();
            assert_eq!(*github, all, "GitHub's total of {}", user.login);
            from_github += 1;
        }
    }
    assert!(from_github > 10, "{from_github} profiles read over GraphQL");
}

/// A tenth of the repositories change size on GitHub: the next sync keeps a history row for
/// each of those and for no other, and the history is served newest first.
async fn a_resync_keeps_history_only_for_the_sizes_that_changed(db: TestDb) {
    let s = setup(db, SMALL).await;
    let sync = || async { s.syncer.full_profile_sync("center", &Steps::new()).await };
    sync().await.unwrap();
    let rows = || async {
        let n: i64 = with_pool!(&s.db, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM repository_sizes"
        )
        .fetch_one(pool)
        .await
        .unwrap());
        n as usize
    };
    let stored = stored_sizes(&s.db).await;
    assert_eq!(rows().await, stored.len(), "the first size of each");
    sync().await.unwrap();
    assert_eq!(rows().await, stored.len(), "nothing changed, nothing kept");

    let mut ids: Vec<i64> = stored.keys().copied().collect();
    ids.sort_unstable();
    let changed: Vec<i64> = ids.iter().step_by(10).copied().collect();
    s.fake.update_graph(|g| {
        for repo in g.repos.iter_mut().filter(|r| changed.contains(&r.id)) {
            repo.size += 1_000;
        }
    });
    sync().await.unwrap();
    eprintln!(
        "{} repositories, {} changed size: {} history rows after, {} before",
        stored.len(),
        changed.len(),
        rows().await,
        stored.len()
    );
    assert_eq!(rows().await, stored.len() + changed.len());
    sizes_match(&s, &s.fake.graph()).await;
}

/// Three owners, two with repositories of known sizes (one in Rust, the others in Go) and
/// one of unknown size, their totals summed: the repositories' ids by GitHub id, and the
/// GitHub ids.
async fn seeded_sizes(db: &Db) -> (HashMap<i64, Uuid>, Vec<i64>) {
    let mut owners = Vec::new();
    for (n, login) in [(1, "small"), (2, "large"), (3, "none")] {
        let dev = seed::Dev {
            synced_at: Some(Timestamp::now()),
            ..seed::dev(n, login)
        };
        owners.push((seed::developer(db, dev).await, n, login));
    }
    let repos = [
        (10, 0, "Go", Some(500)),
        (11, 0, "Rust", Some(70)),
        (12, 1, "Go", Some(9_000)),
        (13, 1, "Go", Some(40)),
        (14, 1, "Go", None),
    ];
    let mut ids = HashMap::new();
    for (github_id, owner, language, size) in repos {
        let repo = seed::Repo {
            language: Some(language.to_owned()),
            size,
            ..seed::repo(github_id, owners[owner], &format!("r{github_id}"))
        };
        ids.insert(github_id, seed::repository(db, repo).await);
    }
    let github_ids: Vec<i64> = repos.iter().map(|r| r.0).collect();
    db.run_in_transaction(&sizes_stmts(&github_ids, Timestamp::now()))
        .await
        .unwrap();
    (ids, github_ids)
}

/// The kilobytes in all, by language and by owner, as the ten-minute sample counts them.
async fn the_space_is_summed_in_the_stats_dashboard_and_metrics(app: TestApp) {
    seeded_sizes(&app.db).await;
    // Tomorrow's bucket: the app's keeper may take the next one while the test runs.
    let later = Timestamp(chrono::Utc::now() + chrono::Duration::days(1));
    assert!(history::sample_records(&app.db, history::bucket_of(later, 600)).await);
    let (status, stats) = app.json("/github/stats/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        stats["space"],
        json!({
            "kilobytes": 9_610,
            "languages": [{"name": "Go", "kilobytes": 9_540}, {"name": "Rust", "kilobytes": 70}],
            "owners": [{"name": "large", "kilobytes": 9_040}, {"name": "small", "kilobytes": 570}],
        })
    );
    let page = app
        .get_auth("/github/dashboard/")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Who takes the space"), "{page}");
    assert!(
        page.contains("<tr><td>large</td><td>9,040</td></tr>"),
        "{page}"
    );
    let metrics = app.get_auth("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("repositories_kilobytes 9610"), "{metrics}");
}

/// `size` and `repositories_size` filter and order the lists, over HTTP.
/// Written as a sync writes a listed repository: `github_id` of `size` kilobytes, owned on
/// GitHub by `owner`.
fn listed_repository(github_id: i64, owner: i64, size: i64) -> RepositoryRecord {
    let login = format!("owner{owner}");
    RepositoryRecord {
        github_id,
        node_id: None,
        owner: ListedDeveloper {
            github_id: owner,
            login: login.clone(),
            node_id: None,
            raw: json!({"id": owner, "login": login}),
        },
        details: RepositoryDetails {
            name: format!("repo{github_id}"),
            full_name: format!("{login}/repo{github_id}"),
            ..RepositoryDetails::default()
        },
        counts: RepositoryCounts {
            size: Some(size),
            ..RepositoryCounts::default()
        },
        source: Source::RestList,
        collaborates: None,
        raw: json!({"id": github_id}),
    }
}

/// A repository GitHub moved to another owner leaves its old owner's total for the new
/// owner's, in the write that saw it move.
async fn a_moved_repository_takes_its_size_to_its_new_owner(app: TestApp) {
    let write = |records: Vec<RepositoryRecord>| {
        let statements = upsert_repositories_stmts(&records, Timestamp::now());
        let db = app.db.clone();
        async move { db.run_in_transaction(&statements).await.unwrap() }
    };
    let totals = || async {
        let rows: Vec<(i64, Option<i64>)> = with_pool!(&app.db, |pool| sqlx::query_as(
            "SELECT github_id, repositories_size FROM developers ORDER BY github_id"
        )
        .fetch_all(pool)
        .await
        .unwrap());
        rows
    };
    write(vec![
        listed_repository(100, 1, 30),
        listed_repository(101, 1, 12),
    ])
    .await;
    write(vec![listed_repository(200, 2, 5)]).await;
    assert_eq!(totals().await, [(1, Some(42)), (2, Some(5))]);
    write(vec![listed_repository(100, 2, 30)]).await;
    assert_eq!(totals().await, [(1, Some(12)), (2, Some(35))]);
    // Its last repository gone to another, an owner has none left to sum.
    write(vec![listed_repository(101, 3, 12)]).await;
    assert_eq!(totals().await, [(1, None), (2, Some(35)), (3, Some(12))]);
}

async fn sizes_filter_and_order_the_lists(app: TestApp) {
    let db = &app.db;
    let (ids, github_ids) = seeded_sizes(db).await;
    let names = |page: &Value| -> Vec<String> {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["full_name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, page) = app.json("/github/repositories/?ordering=-size").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        names(&page),
        [
            "large/r12",
            "small/r10",
            "small/r11",
            "large/r13",
            "large/r14"
        ]
    );
    let (_, page) = app
        .json("/github/repositories/?language=Go&ordering=-size")
        .await;
    assert_eq!(
        names(&page),
        ["large/r12", "small/r10", "large/r13", "large/r14"]
    );
    let (_, page) = app
        .json("/github/repositories/?size__gte=70&size__lte=500&ordering=size")
        .await;
    assert_eq!(names(&page), ["small/r11", "small/r10"]);
    let (_, page) = app.json("/github/repositories/?size=40").await;
    assert_eq!(names(&page), ["large/r13"]);
    assert_eq!(page["results"][0]["size"], 40);
    let (status, page) = app.json("/github/repositories/?size__gte=big").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(page, json!({"size__gte": ["Enter a number."]}));

    let logins = |page: &Value| -> Vec<(String, Value)> {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["login"].as_str().unwrap().to_owned(),
                    d["repositories_size"].clone(),
                )
            })
            .collect()
    };
    let (_, page) = app
        .json("/github/developers/?ordering=-repositories_size")
        .await;
    assert_eq!(
        logins(&page),
        [
            ("large".to_owned(), json!(9_040)),
            ("small".to_owned(), json!(570)),
            ("none".to_owned(), Value::Null),
        ]
    );
    let (_, page) = app
        .json("/github/developers/?repositories_size__gte=1000")
        .await;
    assert_eq!(logins(&page), [("large".to_owned(), json!(9_040))]);
    let (status, _) = app
        .json("/github/developers/?repositories_size__lte=-")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The history: the first size seen, then one row a change, newest first.
    with_pool!(db, |pool| sqlx::query(
        "UPDATE repositories SET size = 9500 WHERE github_id = 12"
    )
    .execute(pool)
    .await
    .map(drop)
    .unwrap());
    let later = Timestamp(chrono::Utc::now() + chrono::Duration::seconds(1));
    db.run_in_transaction(&sizes_stmts(&github_ids, later))
        .await
        .unwrap();
    let (status, page) = app
        .json(&format!("/github/repositories/{}/sizes/", ids[&12]))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["count"], 2);
    let sizes: Vec<&Value> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["size"])
        .collect();
    assert_eq!(sizes, [&json!(9_500), &json!(9_000)]);
    let (_, page) = app
        .json(&format!("/github/repositories/{}/sizes/", ids[&14]))
        .await;
    assert_eq!(page["count"], 0, "no size known, no history");
    let (status, _) = app
        .json(&format!("/github/repositories/{}/sizes/", Uuid::new_v4()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .json(&format!("/github/repositories/{}/sizes/?page=2", ids[&12]))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an invalid page");
}

/// Midnight UTC of `day` (`YYYY-MM-DD`).
fn day(day: &str) -> Timestamp {
    seed::at(&format!("{day}T00:00:00Z")).unwrap()
}

/// `?since=`: each record's stars gained (from the week that holds the day) and size growth
/// (against the size as the day began), ordering the list; a bad day is a 400.
async fn growth_since_a_day_is_added_and_orders_the_list(app: TestApp) {
    let db = &app.db;
    let owner = seed::developer(db, seed::dev(1, "owner")).await;
    for (github_id, name, size) in [
        (10, "grew", Some(100)),
        (11, "still", Some(50)),
        (12, "unknown", None),
    ] {
        let repo = seed::Repo {
            size,
            ..seed::repo(github_id, (owner, 1, "owner"), name)
        };
        seed::repository(db, repo).await;
    }
    db.run_in_transaction(&sizes_stmts(&[10, 11, 12], day("2026-10-01")))
        .await
        .unwrap();
    with_pool!(db, |pool| sqlx::query(
        "UPDATE repositories SET size = 400 WHERE github_id = 10"
    )
    .execute(pool)
    .await
    .map(drop)
    .unwrap());
    db.run_in_transaction(&sizes_stmts(&[10], day("2026-11-15")))
        .await
        .unwrap();
    for (github_id, weeks) in [
        (
            10,
            vec![("2026-10-04", 5), ("2026-11-01", 2), ("2026-11-08", 1)],
        ),
        (11, vec![("2026-10-25", 4), ("2026-11-01", 7)]),
    ] {
        let weeks: Vec<StarWeek> = weeks
            .into_iter()
            .map(|(week, stars)| StarWeek {
                week: day(week),
                stars,
            })
            .collect();
        db.run_in_transaction(&star_weeks_stmts(github_id, &weeks, true, Timestamp::now()))
            .await
            .unwrap();
    }
    let growth = |page: &Value| -> Vec<(String, Value, Value)> {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_owned(),
                    r["stars_gained"].clone(),
                    r["size_growth"].clone(),
                )
            })
            .collect()
    };
    let row = |name: &str, stars: Value, size: Value| (name.to_owned(), stars, size);
    let (status, page) = app
        .json("/github/repositories/?since=2026-11-01&ordering=-stars_gained")
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        growth(&page),
        [
            row("still", json!(7), json!(0)),
            row("grew", json!(3), json!(300)),
            row("unknown", Value::Null, Value::Null),
        ]
    );
    let (_, page) = app
        .json("/github/repositories/?since=2026-11-04&ordering=-size_growth")
        .await;
    assert_eq!(
        growth(&page),
        [
            row("grew", json!(3), json!(300)),
            row("still", json!(7), json!(0)),
            row("unknown", Value::Null, Value::Null),
        ],
        "the week that holds the day"
    );
    let (_, page) = app
        .json("/github/repositories/?since=2026-12-01&ordering=size_growth")
        .await;
    let mut later = growth(&page);
    later.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        later,
        [
            row("grew", json!(0), json!(0)),
            row("still", json!(0), json!(0)),
            row("unknown", Value::Null, Value::Null),
        ],
        "nothing since"
    );

    let (_, page) = app.json("/github/repositories/").await;
    assert!(
        page["results"][0].get("stars_gained").is_none(),
        "only with since"
    );
    for (query, param) in [
        ("since=2026-13-01", "since"),
        ("since=yesterday", "since"),
        ("ordering=-stars_gained", "ordering"),
        (
            "since=2026-11-01&ordering=-stars_gained&cursor=",
            "ordering",
        ),
    ] {
        let (status, body) = app.json(&format!("/github/repositories/?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body.get(param).is_some(), "{query}: {body}");
    }
}

/// `-stars_gained` is read from the star weeks' running totals: every page, with a filter
/// or without, matches the order of the stars gained as the weeks sum them, across the turn
/// from the repositories that gained stars to those that gained none and those whose history
/// is unknown; a week stored again moves the order.
async fn the_most_stars_gained_are_read_in_order_across_pages(app: TestApp) {
    let db = &app.db;
    let owner = seed::developer(db, seed::dev(1, "owner")).await;
    let weeks_from = |first: &str, count: usize| -> Vec<Timestamp> {
        (0..count)
            .map(|n| Timestamp(day(first).0 + chrono::Duration::weeks(n as i64)))
            .collect()
    };
    let mut expected: Vec<(Uuid, String, Option<i64>, &str)> = Vec::new();
    for i in 0..27_i64 {
        let language = if i % 2 == 0 { "Go" } else { "Rust" };
        let name = format!("repo-{i:02}");
        let repo = seed::Repo {
            language: Some(language.to_owned()),
            ..seed::repo(100 + i, (owner, 1, "owner"), &name)
        };
        let id = seed::repository(db, repo).await;
        // Histories that span the day, that end before it, that begin after it, that gained
        // nothing since; and none.
        let weeks = match i % 5 {
            0 => None,
            1 => Some(weeks_from("2026-09-06", 6)),
            2 => Some(weeks_from("2026-09-06", 13)),
            3 => Some(weeks_from("2026-11-15", 3)),
            _ => Some(weeks_from("2026-09-06", 13)),
        };
        let gained = weeks.map(|weeks| {
            let weeks: Vec<StarWeek> = weeks
                .into_iter()
                .enumerate()
                .map(|(n, week)| StarWeek {
                    week,
                    stars: match i % 5 {
                        4 if week >= day("2026-11-01") => 0,
                        _ => (i * 7 + n as i64 * 3) % 5,
                    },
                })
                .collect();
            let statements = star_weeks_stmts(100 + i, &weeks, true, Timestamp::now());
            let gained = weeks
                .iter()
                .filter(|w| w.week >= day("2026-11-01"))
                .map(|w| w.stars)
                .sum();
            (statements, gained)
        });
        if let Some((statements, _)) = &gained {
            db.run_in_transaction(statements).await.unwrap();
        }
        expected.push((id, name, gained.map(|g| g.1), language));
    }
    // Most gained first, then none, then unknown; ties by id.
    expected.sort_by(|a, b| {
        b.2.is_some()
            .cmp(&a.2.is_some())
            .then(b.2.cmp(&a.2))
            .then(a.0.cmp(&b.0))
    });
    let gained = expected.iter().filter(|e| e.2 > Some(0)).count();
    assert!((10..20).contains(&gained), "{gained} gained stars");
    let walk = |query: String| {
        let app = &app;
        async move {
            let mut seen = Vec::new();
            for page in 1..=3 {
                let (status, body) = app.json(&format!("{query}&page={page}")).await;
                if status == StatusCode::NOT_FOUND {
                    break;
                }
                assert_eq!(status, StatusCode::OK, "{body}");
                for r in body["results"].as_array().unwrap() {
                    seen.push((
                        r["name"].as_str().unwrap().to_owned(),
                        r["stars_gained"].as_i64(),
                    ));
                }
            }
            seen
        }
    };
    let names = |language: Option<&str>| -> Vec<(String, Option<i64>)> {
        expected
            .iter()
            .filter(|e| language.is_none_or(|l| l == e.3))
            .map(|e| (e.1.clone(), e.2))
            .collect()
    };
    let base = "/github/repositories/?since=2026-11-04&ordering=-stars_gained";
    assert_eq!(
        walk(base.to_owned()).await,
        names(None),
        "every page in order"
    );
    assert_eq!(
        walk(format!("{base}&language=Go")).await,
        names(Some("Go")),
        "with a filter"
    );
    let (_, page) = app.json(&format!("{base},-name&page=1")).await;
    assert_eq!(page["count"], 27);

    // A star in the latest week of the one that gained least moves it to the top.
    let least = expected.iter().rfind(|e| e.2 > Some(0)).unwrap().clone();
    let github_id = 100 + least.1[5..].parse::<i64>().unwrap();
    let latest: Timestamp = with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT MAX(week) FROM star_weeks WHERE repository_id = $1"
    )
    .bind(least.0)
    .fetch_one(pool)
    .await
    .unwrap());
    let week = StarWeek {
        week: latest,
        stars: 1_000,
    };
    db.run_in_transaction(&star_weeks_stmts(
        github_id,
        &[week],
        false,
        Timestamp::now(),
    ))
    .await
    .unwrap();
    let (_, page) = app.json(base).await;
    assert_eq!(page["results"][0]["name"], least.1);
    assert!(page["results"][0]["stars_gained"].as_i64().unwrap() >= 1_000);
}
