//! The sync engine against the fake GitHub: the stored graph is GitHub's, the requests are
//! the floor, unchanged data costs nothing, and every fault ends where a clean run does.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use gitomatic::config::{Config, DatabaseUrl, Secret};
use gitomatic::db::Db;
use gitomatic::sync::{Steps, SyncError, Syncer};
use gitomatic::with_pool;

use crate::fake_github::{FakeGitHub, Faults, Graph, Shape};
use crate::helpers::{TestDb, backend_tests};

pub const SHAPE: Shape = Shape {
    followers: 250,
    following: 150,
    repos: 120,
    starred: 300,
    max_stargazers: 160,
    seed: 7,
};

pub const SMALL: Shape = Shape {
    followers: 12,
    following: 7,
    repos: 4,
    starred: 5,
    max_stargazers: 150,
    seed: 3,
};

pub struct Setup {
    pub db: Db,
    pub fake: FakeGitHub,
    pub syncer: Arc<Syncer>,
    pub test_db: TestDb,
}

/// The store on `test_db` and a sync engine talking over REST only to a fake GitHub serving
/// `shape`.
pub async fn setup(test_db: TestDb, shape: Shape) -> Setup {
    setup_with(test_db, Graph::generate(shape), rest_only).await
}

/// Lists and profiles over REST alone, as without a token or with `github_graphql = false`.
pub fn rest_only(config: &mut Config) {
    config.github_graphql = false;
}

/// The store on `test_db` and a sync engine, set up by `configure`, talking to a fake GitHub
/// serving `graph`.
pub async fn setup_with(
    test_db: TestDb,
    graph: Graph,
    configure: impl FnOnce(&mut Config),
) -> Setup {
    let fake = FakeGitHub::start(graph).await;
    let db = Db::connect(&DatabaseUrl::new(test_db.url.clone()), 5)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let mut config = client_config(&fake);
    configure(&mut config);
    let syncer = gitomatic::app::syncer(&db, &config).unwrap();
    Setup {
        db,
        fake,
        syncer,
        test_db,
    }
}

/// `setup_with`, and a full profile sync of the center that succeeded.
pub async fn synced_center(
    test_db: TestDb,
    graph: Graph,
    configure: impl FnOnce(&mut Config),
) -> Setup {
    let s = setup_with(test_db, graph, configure).await;
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    s
}

/// A client of `fake` with a token, that retries fast.
pub fn client_config(fake: &FakeGitHub) -> Config {
    Config {
        github_api_url: fake.url.clone(),
        github_token: Some(Secret::new("fake-token")),
        github_retry_base_ms: 2,
        github_secondary_wait_seconds: 1,
        ..Config::default()
    }
}

/// A developer as compared: login, name, followers, following, public repositories, synced.
type DeveloperView = (
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    bool,
);
/// A repository as compared: full name, owner, stargazers, description.
type RepositoryView = (String, i64, Option<i64>, Option<String>);

type RepositoryRow = (i64, String, i64, Option<i64>, Option<String>);

/// The stored graph by GitHub ids, without our own ids and timestamps.
#[derive(Debug, PartialEq, Eq)]
pub struct Stored {
    developers: BTreeMap<i64, DeveloperView>,
    pub repositories: BTreeMap<i64, RepositoryView>,
    follows: BTreeSet<(i64, i64)>,
    stars: BTreeSet<(i64, i64, Option<String>)>,
}

impl Stored {
    /// How many developers have their own profile stored.
    pub fn synced_count(&self) -> usize {
        self.developers.values().filter(|d| d.5).count()
    }

    /// The follows `id` is part of, either way.
    pub fn follows_of(&self, id: i64) -> BTreeSet<(i64, i64)> {
        let mine = self.follows.iter().filter(|(a, b)| *a == id || *b == id);
        mine.copied().collect()
    }
}

pub async fn stored(db: &Db) -> Stored {
    type Dev = (
        i64,
        String,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        bool,
    );
    let developers: Vec<Dev> = with_pool!(db, |pool| sqlx::query_as(
        "SELECT github_id, login, name, followers_count, following_count, public_repos, \
         synced_at IS NOT NULL FROM developers"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    let repositories: Vec<RepositoryRow> = with_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT github_id, full_name, owner_github_id, stargazers_count, description FROM repositories"
    )
    .fetch_all(pool)
    .await
    .unwrap()
    });
    let follows: Vec<(i64, i64)> = with_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT a.github_id, b.github_id FROM follows f JOIN developers a ON a.id = f.follower_id \
         JOIN developers b ON b.id = f.followee_id"
    )
    .fetch_all(pool)
    .await
    .unwrap()
    });
    let stars: Vec<(i64, i64, Option<gitomatic::db::Timestamp>)> = with_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT d.github_id, r.github_id, s.starred_at FROM stars s JOIN developers d ON d.id = s.developer_id \
         JOIN repositories r ON r.id = s.repository_id"
    )
    .fetch_all(pool)
    .await
    .unwrap()
    });
    Stored {
        developers: developers
            .into_iter()
            .map(|(id, l, n, a, b, c, s)| (id, (l, n, a, b, c, s)))
            .collect(),
        repositories: repositories
            .into_iter()
            .map(|(id, f, o, s, d)| (id, (f, o, s, d)))
            .collect(),
        follows: follows.into_iter().collect(),
        stars: stars
            .into_iter()
            .map(|(d, r, at)| (d, r, at.map(|t| t.to_iso())))
            .collect(),
    }
}

/// What a full profile sync of `center` must store, from GitHub's ground truth.
pub fn expected(graph: &Graph, center: &str) -> Stored {
    let me = graph.user(center).unwrap().clone();
    let follows: BTreeSet<(i64, i64)> = graph
        .follows
        .iter()
        .copied()
        .filter(|(a, b)| *a == me.id || *b == me.id)
        .collect();
    let my_repos: BTreeSet<i64> = graph.repos_of(me.id).iter().map(|r| r.id).collect();
    let stars: BTreeSet<(i64, i64, Option<String>)> = graph
        .stars
        .iter()
        .filter(|(u, r, _)| *u == me.id || my_repos.contains(r))
        .map(|(u, r, at)| (*u, *r, Some(at.clone())))
        .collect();
    let starred: BTreeSet<i64> = stars
        .iter()
        .filter(|(u, _, _)| *u == me.id)
        .map(|(_, r, _)| *r)
        .collect();
    // Synced in full: center, its followers, its followees and its repositories' stargazers.
    let mut synced: BTreeSet<i64> = follows.iter().flat_map(|(a, b)| [*a, *b]).collect();
    synced.extend(
        stars
            .iter()
            .filter(|(_, r, _)| my_repos.contains(r))
            .map(|(u, _, _)| *u),
    );
    synced.insert(me.id);
    let repositories: BTreeMap<i64, RepositoryView> = graph
        .repos
        .iter()
        .filter(|r| my_repos.contains(&r.id) || starred.contains(&r.id))
        .map(|r| {
            let owner = graph.users.iter().find(|u| u.id == r.owner_id).unwrap();
            let stargazers = graph.stargazers_of(r.id).len() as i64;
            (
                r.id,
                (
                    format!("{}/{}", owner.login, r.name),
                    r.owner_id,
                    Some(stargazers),
                    r.description.clone(),
                ),
            )
        })
        .collect();
    let owners: BTreeSet<i64> = repositories
        .values()
        .map(|(_, owner, _, _)| *owner)
        .collect();
    let developers = graph
        .users
        .iter()
        .filter(|u| {
            synced.contains(&u.id)
                || owners.contains(&u.id)
                || stars.iter().any(|(d, _, _)| *d == u.id)
        })
        .map(|u| {
            let full = synced.contains(&u.id);
            let count = |n: usize| full.then_some(n as i64);
            let value = (
                u.login.clone(),
                if full { u.name.clone() } else { None },
                count(graph.followers_of(u.id).len()),
                count(graph.following_of(u.id).len()),
                count(graph.repos_of(u.id).len()),
                full,
            );
            (u.id, value)
        })
        .collect();
    Stored {
        developers,
        repositories,
        follows,
        stars,
    }
}

/// REST requests that spent quota, but for repositories' own pages: what a GraphQL sync reads
/// over REST besides completing the repositories GraphQL lists met (`sync::complete`).
pub fn rest_beside_completion(fake: &FakeGitHub) -> usize {
    let requests = fake.requests();
    let pages = requests.iter().filter(|r| {
        let segments: Vec<&str> = r.path_and_query.split('/').collect();
        r.counted && segments.len() == 4 && segments[1] == "repos"
    });
    fake.counted() - pages.count()
}

/// GitHub's floor for a full profile sync on an empty store: one profile, the pages each
/// needed list takes at 100 a page, and one profile for each developer known from a list.
pub fn floor(graph: &Graph, center: &str) -> usize {
    let me = graph.user(center).unwrap();
    let pages = |n: usize| n.div_ceil(100);
    let repos = graph.repos_of(me.id);
    let expected = expected(graph, center);
    let hydrated = expected.developers.values().filter(|d| d.5).count() - 1;
    1 + pages(repos.len())
        + repos
            .iter()
            .map(|r| pages(graph.stargazers_of(r.id).len()))
            .sum::<usize>()
        + pages(graph.followers_of(me.id).len())
        + pages(graph.following_of(me.id).len())
        + pages(graph.starred_by(me.id).len()).max(1)
        + hydrated
}

/// What the original spent: lists at 30 a page, then one GET for every follower, followee,
/// stargazer and starred repository.
fn originals_cost(graph: &Graph, center: &str) -> usize {
    let me = graph.user(center).unwrap();
    let pages = |n: usize| n.div_ceil(30).max(1);
    let repos = graph.repos_of(me.id);
    let lists = [
        graph.followers_of(me.id).len(),
        graph.following_of(me.id).len(),
        graph.starred_by(me.id).len(),
    ];
    let stargazers: Vec<usize> = repos
        .iter()
        .map(|r| graph.stargazers_of(r.id).len())
        .collect();
    1 + pages(repos.len())
        + stargazers.iter().map(|n| pages(*n)).sum::<usize>()
        + lists.iter().map(|n| pages(*n)).sum::<usize>()
        + lists.iter().sum::<usize>()
        + stargazers.iter().sum::<usize>()
}

async fn a_full_profile_sync_stores_githubs_graph_at_the_floor_cost(db: TestDb) {
    let s = setup(db, SHAPE).await;
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let graph = s.fake.graph();
    assert_eq!(stored(&s.db).await, expected(&graph, "center"));
    assert_eq!(s.fake.counted(), floor(&graph, "center"), "requests spent");
    eprintln!(
        "full profile sync: {} requests (the floor); the original's one GET per item at 30 a page: {}",
        s.fake.counted(),
        originals_cost(&graph, "center")
    );
    let requests = s.fake.requests();
    assert!(
        requests
            .iter()
            .filter(|r| r.path_and_query.contains("/followers"))
            .all(|r| r.path_and_query.contains("per_page=100"))
    );
    assert!(
        requests.iter().all(|r| r.authorized),
        "the token goes with every request"
    );
    let core: (i64, i64) = with_pool!(&s.db, |pool| sqlx::query_as(
        "SELECT id, rate_remaining FROM rate_limits WHERE resource = 'core'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(
        core,
        (1, s.fake.quota_remaining()),
        "core is row 1 and holds GitHub's last word"
    );
}

async fn a_full_repository_sync_stores_the_repository_its_owner_and_stargazers(db: TestDb) {
    let s = setup(db, SMALL).await;
    let graph = s.fake.graph();
    let center = graph.user("center").unwrap().id;
    let repo = graph
        .repos_of(center)
        .into_iter()
        .max_by_key(|r| graph.stargazers_of(r.id).len())
        .unwrap()
        .clone();
    let stargazers = graph.stargazers_of(repo.id);
    s.syncer
        .full_repository_sync("center", &repo.name, &Steps::new())
        .await
        .unwrap();
    let stored = stored(&s.db).await;
    let expected_stars: BTreeSet<(i64, i64, Option<String>)> = stargazers
        .iter()
        .map(|(user, at)| (*user, repo.id, Some(at.clone())))
        .collect();
    assert_eq!(stored.stars, expected_stars);
    assert_eq!(
        stored.repositories[&repo.id].2,
        Some(stargazers.len() as i64)
    );
    let synced = stored.developers.values().filter(|d| d.5).count();
    assert_eq!(
        synced,
        stargazers.len() + 1,
        "every stargazer and the owner have profiles"
    );
    // The repository, its star history (30 weeks a page), its owner, the stargazer pages
    // and their profiles.
    let weeks = crate::fake_github::star_history::weeks(
        stargazers.iter().map(|(_, at)| at.as_str()),
        chrono::Utc::now().timestamp(),
    );
    let floor =
        1 + weeks.len().div_ceil(30) + 1 + stargazers.len().div_ceil(100) + stargazers.len();
    assert_eq!(s.fake.counted(), floor);
}

async fn a_second_sync_of_unchanged_data_spends_no_quota(db: TestDb) {
    let s = setup(db, SMALL).await;
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let before = stored(&s.db).await;
    s.fake.clear_requests();
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    assert_eq!(s.fake.counted(), 0, "{:?}", s.fake.requests());
    assert!(
        s.fake
            .requests()
            .iter()
            .all(|r| r.status == 304 || r.path_and_query == "/rate_limit")
    );
    assert_eq!(stored(&s.db).await, before);
}

/// The center's first follower unfollows them on GitHub: (the center, the leaver).
pub fn a_follower_leaves(fake: &FakeGitHub) -> (i64, i64) {
    let graph = fake.graph();
    let center = graph.user("center").unwrap().id;
    let leaver = graph.followers_of(center)[0];
    fake.update_graph(|g| g.follows.retain(|edge| *edge != (leaver, center)));
    (center, leaver)
}

async fn an_unfollow_is_gone_after_the_next_full_sync(db: TestDb) {
    let s = setup(db, SMALL).await;
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let (center, leaver) = a_follower_leaves(&s.fake);
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let after = stored(&s.db).await;
    assert!(!after.follows.contains(&(leaver, center)));
    assert_eq!(after.follows, expected(&s.fake.graph(), "center").follows);
}

async fn every_fault_kind_ends_with_the_clean_graph(db: TestDb) {
    let s = setup(db, SMALL).await;
    s.fake.set_faults(Faults {
        server_error: 0.1,
        reset: 0.02,
        truncated: 0.02,
        secondary_limit: 0.02,
        seed: 11,
        ..Faults::default()
    });
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
    let faulted = s
        .fake
        .requests()
        .iter()
        .filter(|r| !r.counted && r.status != 304)
        .count();
    assert!(faulted > 0, "faults were injected");
}

async fn a_quota_run_out_mid_sync_postpones_and_resumes(db: TestDb) {
    let s = setup(db, SMALL).await;
    let reset = chrono::Utc::now().timestamp() + 2;
    s.fake.set_quota(5000, 40, reset);
    let err = s
        .syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap_err();
    let SyncError::Postpone { until } = err else {
        panic!("expected a postponement, got {err}")
    };
    assert_eq!(until.timestamp(), reset);
    let spent = s.fake.counted();
    assert_eq!(spent, 40 - 25, "stops at the threshold of 25");
    assert_eq!(s.fake.quota_remaining(), 25);
    tokio::time::sleep_until(tokio::time::Instant::now() + std::time::Duration::from_millis(2_100))
        .await;
    s.fake
        .set_quota(5000, 5000, chrono::Utc::now().timestamp() + 3600);
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
}

async fn gone_blocked_renamed_and_truncated_answers_are_recorded(db: TestDb) {
    let s = setup(db, SMALL).await;
    let graph = s.fake.graph();
    let center = graph.user("center").unwrap().id;
    let follower = graph
        .users
        .iter()
        .find(|u| u.id == graph.followers_of(center)[0])
        .unwrap()
        .login
        .clone();
    let repos = graph.repos_of(center);
    let blocked = repos
        .iter()
        .find(|r| !graph.stargazers_of(r.id).is_empty())
        .unwrap()
        .name
        .clone();
    let big = repos
        .iter()
        .find(|r| r.name != blocked && graph.stargazers_of(r.id).len() > 100)
        .unwrap()
        .name
        .clone();
    s.fake.mark_gone(&follower);
    s.fake.rename_user("center", "centre");
    s.fake.mark_blocked(&format!("centre/{blocked}"));
    s.fake.set_stargazer_page_limit(Some(1));
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();

    let marks: Vec<(String, bool)> = with_pool!(&s.db, |pool| {
        sqlx::query_as(
        "SELECT login, gone_at IS NOT NULL FROM developers WHERE login IN ($1, 'centre', 'center')"
    ).bind(&follower).fetch_all(pool).await.unwrap()
    });
    assert!(marks.contains(&(follower.clone(), true)), "{marks:?}");
    assert!(
        marks.contains(&("centre".to_owned(), false)),
        "the new login is stored: {marks:?}"
    );
    let repo_marks: Vec<(String, bool, bool)> = with_pool!(&s.db, |pool| {
        sqlx::query_as(
        "SELECT name, blocked_at IS NOT NULL, stargazers_truncated FROM repositories WHERE owner_github_id = $1"
    ).bind(center).fetch_all(pool).await.unwrap()
    });
    assert!(
        repo_marks.contains(&(blocked.clone(), true, false)),
        "{repo_marks:?}"
    );
    assert!(
        repo_marks.contains(&(big.clone(), false, true)),
        "{repo_marks:?}"
    );
    let blocked_requests = s.fake.requests().iter().filter(|r| r.status == 451).count();
    assert_eq!(blocked_requests, 1, "a blocked repository is asked once");
}

backend_tests!(
    a_full_profile_sync_stores_githubs_graph_at_the_floor_cost,
    a_full_repository_sync_stores_the_repository_its_owner_and_stargazers,
    a_second_sync_of_unchanged_data_spends_no_quota,
    an_unfollow_is_gone_after_the_next_full_sync,
    every_fault_kind_ends_with_the_clean_graph,
    a_quota_run_out_mid_sync_postpones_and_resumes,
    gone_blocked_renamed_and_truncated_answers_are_recorded,
);
