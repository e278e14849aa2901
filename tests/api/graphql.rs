//! Discovery over GraphQL against the fake: profiles a hundred to a query, lists read many to
//! a query, every stored profile equal to what REST says, and each way a GraphQL answer can
//! go wrong — a node GitHub no longer has, a transient error, a budget spent mid-sync.

use apollo_compiler::ExecutableDocument;
use gitomatic::db::Db;
use gitomatic::db::columns::Fields;
use gitomatic::db::developers::DeveloperProfile;
use gitomatic::github::graphql::{
    Connection, PageRequest, pages_query, profiles_query, tallies_query,
};
use gitomatic::sync::Steps;
use gitomatic::with_pool;
use serde_json::{Value, json};

use crate::fake_github::{FakeGitHub, Faults, Graph};
use crate::helpers::{TestDb, backend_tests};
use crate::sync::{
    SHAPE, SMALL, expected, floor, rest_beside_completion, setup_with, stored, synced_center,
};

/// Every document the service sends is valid against GitHub's published schema.
#[test]
fn every_query_document_is_valid_against_githubs_schema() {
    let every_list = [
        Connection::Followers,
        Connection::Following,
        Connection::Starred,
        Connection::Repositories,
        Connection::Stargazers,
    ]
    .map(|connection| PageRequest {
        connection,
        subject: "MDQ6VXNlcjE=".into(),
        after: Some("Y3Vyc29y".into()),
    });
    for query in [
        profiles_query(),
        tallies_query(),
        pages_query(&every_list, 100).0,
    ] {
        let schema = crate::fake_github::graphql::schema();
        if let Err(invalid) = ExecutableDocument::parse_and_validate(schema, &query, "query") {
            panic!("{}\n{query}", invalid.errors);
        }
    }
}

/// The fake charges GitHub's formula: each connection one request per parent its enclosing
/// connections may yield; the sum ÷ 100, rounded, at least 1.
#[tokio::test]
async fn the_fake_charges_githubs_formula() {
    let fake = FakeGitHub::start(Graph::generate(SMALL)).await;
    let nested = "followers(first: 100) { nodes { followers(first: 100) { totalCount } } }";
    let client = reqwest::Client::new();
    let mut costs = Vec::new();
    for aliases in [1, 2, 3] {
        let fields: Vec<String> = (0..aliases)
            .map(|i| format!("u{i}: user(login: \"center\") {{ {nested} }}"))
            .collect();
        let query = format!(
            "query Nested {{ {} rateLimit {{ cost }} }}",
            fields.join(" ")
        );
        let answer: Value = client
            .post(format!("{}/graphql", fake.url))
            .bearer_auth("fake-token")
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        costs.push(answer["data"]["rateLimit"]["cost"].as_i64().unwrap());
    }
    // 101, 202 and 303 requests.
    assert_eq!(costs, [1, 2, 3]);
    let ids: Vec<String> = (1..=100)
        .map(|id| base64_of(&format!("04:User{id}")))
        .collect();
    let answer: Value = client
        .post(format!("{}/graphql", fake.url))
        .bearer_auth("fake-token")
        .json(&json!({ "query": profiles_query(), "variables": { "ids": ids } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["data"]["rateLimit"]["cost"], 1,
        "100 profiles: 4 requests"
    );
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[derive(sqlx::FromRow)]
struct StoredProfile {
    login: String,
    #[sqlx(flatten)]
    profile: DeveloperProfile,
}

/// Every complete profile stored, every field of the profile's one field list, against what
/// the fake's REST API answers for it (`GET /users/{login}`, read by the same list).
async fn assert_profiles_equal_rest(db: &Db, fake: &FakeGitHub) -> usize {
    let sql = format!(
        "SELECT login, {} FROM developers WHERE synced_at IS NOT NULL",
        DeveloperProfile::COLUMNS.join(", ")
    );
    let rows: Vec<StoredProfile> = with_pool!(db, |pool| sqlx::query_as(&sql)
        .fetch_all(pool)
        .await
        .unwrap());
    let client = reqwest::Client::new();
    for row in &rows {
        let rest: DeveloperProfile = client
            .get(format!("{}/users/{}", fake.url, row.login))
            .bearer_auth("fake-token")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(row.profile, rest, "{}", row.login);
    }
    rows.len()
}

async fn a_graphql_sync_stores_githubs_graph_with_profiles_equal_to_rest(db: TestDb) {
    let mut graph = Graph::generate(SHAPE);
    // The owner of a starred repository is an organization, which GraphQL gives no follower
    // count: its profile and lists come over REST.
    let starred = graph.starred_by(1)[0].0;
    let owner = graph
        .repos
        .iter()
        .find(|r| r.id == starred)
        .unwrap()
        .owner_id;
    graph.users[owner as usize - 1].organization = true;
    let organization = graph.users[owner as usize - 1].login.clone();
    // Organizations star nothing.
    graph.stars.retain(|(user, _, _)| *user != owner);
    let s = setup_with(db, graph, |_| {}).await;
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let graph = s.fake.graph();
    assert_eq!(stored(&s.db).await, expected(&graph, "center"));
    let (rest, points) = (rest_beside_completion(&s.fake), s.fake.points());
    let queries = s.fake.requests().iter().filter(|r| r.points > 0).count();
    eprintln!(
        "full profile sync over GraphQL: {rest} REST requests and {points} points in {queries} \
         queries; over REST alone: {} requests",
        floor(&graph, "center")
    );
    assert_eq!(rest, 1, "the center's profile");
    let completing = s.fake.requests();
    let tallies: i64 = completing
        .iter()
        .filter(|r| r.operation.as_deref() == Some("Tallies"))
        .map(|r| r.points)
        .sum();
    let repositories = expected(&graph, "center").repositories.len();
    assert!(
        points - tallies <= 12,
        "{points} points, {tallies} of them counts"
    );
    assert!(
        tallies as usize <= repositories.div_ceil(100),
        "counts of {repositories} repositories, a hundred a point: {tallies}"
    );
    let quotas: Vec<(i64, String, i64)> = with_pool!(&s.db, |pool| sqlx::query_as(
        "SELECT id, resource, rate_remaining FROM rate_limits ORDER BY id"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(quotas[0], (1, "core".to_owned(), s.fake.quota_remaining()));
    let graphql = quotas
        .iter()
        .find(|q| q.1 == "graphql")
        .expect("a graphql row");
    assert_eq!(
        graphql.2,
        s.fake.graphql_remaining(),
        "GitHub's last word on each quota"
    );

    s.fake.clear_requests();
    s.syncer
        .full_profile_sync(&organization, &Steps::new())
        .await
        .unwrap();
    let over_rest: Vec<String> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.counted)
        .map(|r| r.path_and_query)
        .collect();
    assert!(
        over_rest
            .iter()
            .any(|path| path == &format!("/users/{organization}")),
        "the organization's profile over REST: {over_rest:?}"
    );
    let compared = assert_profiles_equal_rest(&s.db, &s.fake).await;
    let complete = expected(&graph, "center").synced_count();
    assert_eq!(
        compared,
        complete + 1,
        "every profile, and the organization's"
    );
}

async fn a_resync_spends_no_rest_quota_and_no_points_on_known_profiles(db: TestDb) {
    let s = setup_with(db, Graph::generate(SMALL), |_| {}).await;
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
    let profiles = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("Profiles"));
    assert_eq!(profiles.count(), 0, "no profile is fetched again");
    assert_eq!(stored(&s.db).await, before);
}

async fn a_node_github_no_longer_has_is_marked_gone(db: TestDb) {
    let graph = Graph::generate(SMALL);
    let gone = graph
        .users
        .iter()
        .find(|u| u.id == graph.followers_of(1)[0])
        .unwrap()
        .login
        .clone();
    let s = setup_with(db, graph, |_| {}).await;
    s.fake.mark_gone(&gone);
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let (marked, synced): (bool, bool) = with_pool!(&s.db, |pool| sqlx::query_as(
        "SELECT gone_at IS NOT NULL, synced_at IS NOT NULL FROM developers WHERE login = $1"
    )
    .bind(&gone)
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!((marked, synced), (true, false));
    let not_found = s
        .fake
        .requests()
        .iter()
        .any(|r| r.graphql_error.as_deref() == Some("NOT_FOUND"));
    assert!(not_found, "GitHub's answer named the missing node");
    assert_eq!(
        rest_beside_completion(&s.fake),
        1,
        "no REST request for the missing one"
    );
}

async fn transient_graphql_errors_are_retried_to_the_clean_graph(db: TestDb) {
    let s = setup_with(db, Graph::generate(SMALL), |_| {}).await;
    s.fake.set_faults(Faults {
        went_wrong: 0.3,
        server_error: 0.1,
        truncated: 0.05,
        seed: 21,
        ..Faults::default()
    });
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
    let retried = s
        .fake
        .requests()
        .iter()
        .filter(|r| r.path_and_query == "/graphql")
        .count();
    let spent = s.fake.requests().iter().filter(|r| r.points > 0).count();
    assert!(
        retried > spent,
        "faults were met: {retried} tries, {spent} answers"
    );
}

async fn a_graphql_budget_spent_mid_hydration_hands_over_to_rest(db: TestDb) {
    // A first run tells what the lists cost.
    let rehearsal = setup_with(db.sibling().await, Graph::generate(SMALL), |_| {}).await;
    rehearsal
        .syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    let lists: i64 = rehearsal
        .fake
        .requests()
        .iter()
        .filter(|r| r.operation.as_deref() == Some("Pages"))
        .map(|r| r.points)
        .sum();
    let hydrated = stored(&rehearsal.db).await.synced_count() - 1;

    let s = setup_with(db, Graph::generate(SMALL), |_| {}).await;
    let reset = chrono::Utc::now().timestamp() + 3600;
    // The lists and one batch of profiles, then the threshold (25).
    s.fake.set_graphql_quota(5000, 25 + lists + 1, reset);
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    assert_eq!(stored(&s.db).await, expected(&s.fake.graph(), "center"));
    assert_eq!(
        s.fake.graphql_remaining(),
        25,
        "GraphQL stopped at the threshold"
    );
    let by_rest = rest_beside_completion(&s.fake) - 1;
    assert_eq!(
        by_rest,
        hydrated - 100,
        "the first hundred over GraphQL, the rest over REST"
    );
}

async fn a_budget_spent_elsewhere_is_learnt_from_githubs_refusal(db: TestDb) {
    let s = setup_with(db, Graph::generate(SMALL), |_| {}).await;
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    // Another program spends the token's GraphQL points: this client still thinks it has them.
    let reset = chrono::Utc::now().timestamp() + 3600;
    s.fake.set_graphql_quota(5000, 0, reset);
    s.fake.clear_requests();
    let follower = s.fake.graph().followers_of(1)[0];
    let login = s.fake.graph().users[follower as usize - 1].login.clone();
    s.syncer
        .full_profile_sync(&login, &Steps::new())
        .await
        .unwrap();
    let requests = s.fake.requests();
    let refused = requests
        .iter()
        .filter(|r| r.graphql_error.as_deref() == Some("RATE_LIMITED"))
        .count();
    assert_eq!(refused, 1, "one refusal, then REST: {requests:?}");
    assert!(s.fake.counted() > 0, "the work went on over REST");
    let synced: bool = with_pool!(&s.db, |pool| sqlx::query_scalar(
        "SELECT synced_at IS NOT NULL FROM developers WHERE login = $1"
    )
    .bind(&login)
    .fetch_one(pool)
    .await
    .unwrap());
    assert!(synced);
}

backend_tests!(
    a_graphql_sync_stores_githubs_graph_with_profiles_equal_to_rest,
    a_resync_spends_no_rest_quota_and_no_points_on_known_profiles,
    a_node_github_no_longer_has_is_marked_gone,
    transient_graphql_errors_are_retried_to_the_clean_graph,
    a_graphql_budget_spent_mid_hydration_hands_over_to_rest,
    a_budget_spent_elsewhere_is_learnt_from_githubs_refusal,
    a_graphql_listed_repository_is_completed_to_rests_fields,
    without_idle_rest_quota_a_listed_repository_is_counted_and_stays_incomplete,
);

/// A repository as compared with GitHub's REST object: homepage, downloads, pages,
/// subscribers, open issues, and whether its own page was read.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Completed {
    github_id: i64,
    homepage: Option<String>,
    has_downloads: Option<bool>,
    has_pages: Option<bool>,
    subscribers_count: Option<i64>,
    open_issues_count: Option<i64>,
    synced: bool,
}

async fn completed(db: &Db) -> Vec<Completed> {
    with_pool!(db, |pool| sqlx::query_as(
        "SELECT github_id, homepage, has_downloads, has_pages, subscribers_count, \
         open_issues_count, synced_at IS NOT NULL AS synced FROM repositories ORDER BY github_id"
    )
    .fetch_all(pool)
    .await
    .unwrap())
}

/// What GitHub's REST object says of each repository stored, with `synced` as given.
fn truth(graph: &Graph, stored: &[Completed], synced: bool) -> Vec<Completed> {
    stored
        .iter()
        .map(|stored| {
            let r = graph
                .repos
                .iter()
                .find(|r| r.id == stored.github_id)
                .unwrap();
            Completed {
                github_id: r.id,
                homepage: r.homepage.clone(),
                has_downloads: synced.then_some(r.has_downloads),
                has_pages: synced.then_some(r.has_pages),
                subscribers_count: Some(r.subscribers_count),
                open_issues_count: Some(r.open_issues_count),
                synced,
            }
        })
        .collect()
}

/// Repositories first met in GraphQL lists get every field REST's object has: the counts
/// over GraphQL, `has_downloads` and `has_pages` from their own page with REST's idle quota.
async fn a_graphql_listed_repository_is_completed_to_rests_fields(db: TestDb) {
    let s = synced_center(db, Graph::generate(SMALL), |_| {}).await;
    let stored = completed(&s.db).await;
    assert!(stored.len() > 3, "{stored:?}");
    assert_eq!(stored, truth(&s.fake.graph(), &stored, true));
    let tallies = s.fake.requests();
    let tallies = tallies
        .iter()
        .filter(|r| r.operation.as_deref() == Some("Tallies"));
    assert_eq!(tallies.count(), 1, "the counts of all of them in one query");
}

/// With REST's quota more than half spent, the listed repositories are counted over GraphQL
/// and left incomplete, `synced_at` null, for a later sync: no REST quota is taken from the
/// work that needs it.
async fn without_idle_rest_quota_a_listed_repository_is_counted_and_stays_incomplete(db: TestDb) {
    let s = setup_with(db, Graph::generate(SMALL), |_| {}).await;
    let reset = chrono::Utc::now().timestamp() + 3600;
    s.fake.set_quota(5000, 2000, reset);
    s.syncer
        .full_profile_sync("center", &Steps::new())
        .await
        .unwrap();
    assert_eq!(s.fake.counted(), 1, "the center's profile alone over REST");
    let stored = completed(&s.db).await;
    assert_eq!(stored, truth(&s.fake.graph(), &stored, false));
}
