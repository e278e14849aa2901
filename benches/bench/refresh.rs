//! Refresh cost: a network's most followed users synced in full (their lists' members get
//! complete profiles too, and over REST their repositories are read besides), every record
//! refreshed once (which reads the star histories whole) and aged past `refresh_days` again,
//! a tenth of the developers and a tenth of the repositories changed on the fake GitHub, and
//! one refresh pass (`Syncer::refresh_due`, what the scheduled `refresh_due` job runs), over
//! REST alone and with GraphQL: what it asked, what it paid, per record refreshed; then
//! another pass, which finds nothing due.

use std::time::Instant;

use gitomatic::config::{Config, DatabaseUrl, Secret};
use gitomatic::db::Db;
use gitomatic::sync::{Due, Steps};
use gitomatic::with_pool;
use serde::Serialize;

use crate::aging::age_everything;
use crate::fake_github::{FakeGitHub, Graph, Request};

/// A pass over every record due, of any age past a week, in one run.
const EVERY_DUE: Due = Due {
    days: 7,
    batch: 1_000_000,
    share: 1.0,
};

#[derive(Clone, Debug, Serialize)]
pub struct Refreshed {
    pub backend: String,
    pub api: String,
    pub developers_due: usize,
    pub repositories_due: usize,
    pub developers_changed: usize,
    pub repositories_changed: usize,
    /// REST requests of the pass (star histories apart), those answered 304, and those
    /// that spent quota.
    pub rest_requests: usize,
    pub not_modified: usize,
    pub rest_spent: usize,
    /// Star-history requests (repositories with enough stars), and those that spent quota.
    pub star_history_requests: usize,
    pub star_history_spent: usize,
    pub graphql_queries: usize,
    pub graphql_points: i64,
    /// Quota units (REST requests and GraphQL points) spent per record refreshed.
    pub spent_per_record: f64,
    pub seconds: f64,
    /// Requests the second pass sent: nothing is due any more.
    pub second_pass_requests: usize,
}

/// The pass on `backend`'s (fresh) database at `url`, over a network of `users` whose
/// first `subjects` users are synced in full, reading GitHub over GraphQL or REST alone.
pub async fn measure(
    backend: &str,
    url: &str,
    (users, subjects): (usize, usize),
    graphql: bool,
) -> anyhow::Result<Refreshed> {
    let db = Db::connect(&DatabaseUrl::new(url.to_owned()), 5).await?;
    db.migrate().await?;
    let graph = Graph::network(crate::crawl::network(users));
    let refreshed = pass(backend, &db, graph, subjects, graphql).await;
    db.close().await;
    refreshed
}

async fn pass(
    backend: &str,
    db: &Db,
    graph: Graph,
    subjects: usize,
    graphql: bool,
) -> anyhow::Result<Refreshed> {
    let fake = FakeGitHub::start(graph).await;
    let reset = chrono::Utc::now().timestamp() + 3600;
    fake.set_quota(10_000_000, 10_000_000, reset);
    fake.set_graphql_quota(10_000_000, 10_000_000, reset);
    let config = Config {
        github_api_url: fake.url.clone(),
        github_token: Some(Secret::new("bench-token")),
        github_graphql: graphql,
        github_retry_base_ms: 2,
        ..Config::default()
    };
    let syncer = gitomatic::app::syncer(db, &config)?;
    for subject in 1..=subjects {
        let login = if subject == 1 {
            "center".to_owned()
        } else {
            format!("user-{subject}")
        };
        syncer.full_profile_sync(&login, &Steps::new()).await?;
    }
    // REST lists name repositories without completing them: their own pages are read here.
    if !graphql {
        for full_name in owned_by_the_synced(db).await? {
            if let Some((owner, name)) = full_name.split_once('/') {
                syncer
                    .full_repository_sync(owner, name, &Steps::new())
                    .await?;
            }
        }
    }
    // A first pass reads the star histories whole (a crawl leaves them unread); the pass
    // measured is the next, as every later one.
    age_everything(db).await?;
    syncer.refresh_due(&EVERY_DUE).await?;
    age_everything(db).await?;
    let developers_due = synced(db, "login", "developers").await?;
    let repositories_due = synced(db, "full_name", "repositories").await?;
    let (developers_changed, repositories_changed) =
        change_a_tenth(&fake, &developers_due, &repositories_due);
    fake.clear_requests();
    let started = Instant::now();
    syncer.refresh_due(&EVERY_DUE).await?;
    let seconds = started.elapsed().as_secs_f64();
    let requests = fake.requests();
    fake.clear_requests();
    syncer.refresh_due(&EVERY_DUE).await?;
    let second_pass_requests = fake.requests().len();
    let (history, rest): (Vec<&Request>, Vec<&Request>) = requests
        .iter()
        .filter(|r| !r.path_and_query.starts_with("/graphql"))
        .partition(|r| r.path_and_query.contains("/stargazers/history"));
    let queries: Vec<&Request> = requests.iter().filter(|r| r.points > 0).collect();
    let graphql_points: i64 = queries.iter().map(|r| r.points).sum();
    let rest_spent = rest.iter().filter(|r| r.counted).count();
    let star_history_spent = history.iter().filter(|r| r.counted).count();
    let records = developers_due.len() + repositories_due.len();
    let spent = rest_spent + star_history_spent + graphql_points as usize;
    Ok(Refreshed {
        backend: backend.to_owned(),
        api: if graphql { "GraphQL" } else { "REST" }.to_owned(),
        developers_due: developers_due.len(),
        repositories_due: repositories_due.len(),
        developers_changed,
        repositories_changed,
        rest_requests: rest.len(),
        not_modified: rest.iter().filter(|r| r.status == 304).count(),
        rest_spent,
        star_history_requests: history.len(),
        star_history_spent,
        graphql_queries: queries.len(),
        graphql_points,
        spent_per_record: spent as f64 / records.max(1) as f64,
        seconds,
        second_pass_requests,
    })
}

/// A tenth of the records due change on GitHub: developers are renamed, repositories
/// described anew. How many of each changed.
fn change_a_tenth(fake: &FakeGitHub, logins: &[String], full_names: &[String]) -> (usize, usize) {
    let developers: Vec<&String> = logins.iter().step_by(10).collect();
    let repositories: Vec<&String> = full_names.iter().step_by(10).collect();
    fake.update_graph(|g| {
        for user in g.users.iter_mut() {
            if developers.contains(&&user.login) {
                user.name = Some(format!("{} renamed", user.login));
            }
        }
        let owners: std::collections::HashMap<i64, String> =
            g.users.iter().map(|u| (u.id, u.login.clone())).collect();
        for repo in g.repos.iter_mut() {
            let full_name = format!("{}/{}", owners[&repo.owner_id], repo.name);
            if repositories.contains(&&full_name) {
                repo.description = Some(format!("{full_name}, described anew"));
            }
        }
    });
    (developers.len(), repositories.len())
}

/// Repositories of the developers synced in full, a few hundred at most.
async fn owned_by_the_synced(db: &Db) -> anyhow::Result<Vec<String>> {
    Ok(with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT r.full_name FROM repositories r JOIN developers d ON d.id = r.owner_id \
         WHERE d.synced_at IS NOT NULL ORDER BY r.full_name LIMIT 300"
    )
    .fetch_all(pool)
    .await?))
}

/// Each kind of record refreshed, named by `key`: those synced once.
async fn synced(db: &Db, key: &str, table: &str) -> anyhow::Result<Vec<String>> {
    let sql = format!("SELECT {key} FROM {table} WHERE synced_at IS NOT NULL ORDER BY {key}");
    Ok(with_pool!(db, |pool| sqlx::query_scalar(&sql)
        .fetch_all(pool)
        .await?))
}

pub fn print(passes: &[Refreshed]) {
    if passes.is_empty() {
        return;
    }
    println!(
        "refresh pass, a tenth of the records changed (quota units: REST requests + GraphQL points):"
    );
    println!(
        "{:<9} {:<8} {:>13} {:>13} {:>9} {:>6} {:>10} {:>13} {:>9} {:>9} {:>8} {:>7}",
        "backend",
        "api",
        "devs/changed",
        "repos/changed",
        "REST req",
        "304",
        "REST spent",
        "star history",
        "queries",
        "points",
        "a record",
        "seconds"
    );
    for p in passes {
        println!(
            "{:<9} {:<8} {:>13} {:>13} {:>9} {:>6} {:>10} {:>13} {:>9} {:>9} {:>8.3} {:>7.1}",
            p.backend,
            p.api,
            format!("{}/{}", p.developers_due, p.developers_changed),
            format!("{}/{}", p.repositories_due, p.repositories_changed),
            p.rest_requests,
            p.not_modified,
            p.rest_spent,
            format!("{}/{}", p.star_history_requests, p.star_history_spent),
            p.graphql_queries,
            p.graphql_points,
            p.spent_per_record,
            p.seconds,
        );
        if p.second_pass_requests > 0 {
            println!(
                "  the second pass sent {} requests: records stayed due",
                p.second_pass_requests
            );
        }
    }
}
