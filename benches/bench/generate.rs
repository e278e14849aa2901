//! A realistic graph at a chosen scale, written through the store code the sync uses:
//! heavy-tailed followers, prolific owners with many repositories, stars.

use std::time::Instant;

use gitomatic::db::developers::{
    DeveloperProfile, ListedDeveloper, ProfileRecord, upsert_listed_stmt, upsert_profiles_stmt,
};
use gitomatic::db::edges::{Edge, link_stmt};
use gitomatic::db::repositories::{
    RepositoryCounts, RepositoryDetails, RepositoryRecord, Source, upsert_repositories_stmts,
};
use gitomatic::db::sql::Sql;
use gitomatic::db::{Db, Pool, Timestamp};
use gitomatic::with_pool;
use serde_json::json;

#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub developers: usize,
    pub follows: usize,
    pub repositories: usize,
    pub stars: usize,
}

impl Scale {
    pub fn named(name: &str) -> Option<Self> {
        match name {
            // About the original's demo data: 1,044 developers, 982 repositories.
            "small" => Some(Self {
                developers: 1_000,
                follows: 10_000,
                repositories: 1_000,
                stars: 5_000,
            }),
            "large" => Some(Self {
                developers: 1_000_000,
                follows: 10_000_000,
                repositories: 2_000_000,
                stars: 10_000_000,
            }),
            _ => None,
        }
    }
}

/// splitmix64: deterministic, so every run measures the same graph.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An index below `n`, most often a small one: a few are very popular, most are not.
    pub fn skewed(&mut self, n: usize) -> usize {
        ((self.unit().powi(3)) * n as f64) as usize % n
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn time(rng: &mut Rng, from: i64, span: i64) -> Option<Timestamp> {
    chrono::DateTime::from_timestamp(from + (rng.next() % span as u64) as i64, 0).map(Timestamp)
}

fn login(index: usize) -> String {
    format!("dev-{index}")
}

/// Writes the graph; returns how long it took.
pub async fn generate(db: &Db, scale: Scale) -> anyhow::Result<std::time::Duration> {
    let started = Instant::now();
    let now = Timestamp::now();
    let mut rng = Rng::new(42);
    // Developers, with full profiles for all but a tenth (known only from lists).
    let mut batch: Vec<Sql> = Vec::new();
    for index in 0..scale.developers {
        let github_id = index as i64 + 1;
        if index % 10 == 9 {
            let listed = ListedDeveloper {
                github_id,
                login: login(index),
                node_id: None,
                raw: json!({"id": github_id, "login": login(index)}),
            };
            batch.extend(upsert_listed_stmt(&[listed], now));
        } else {
            let record = ProfileRecord {
                github_id,
                login: login(index),
                node_id: None,
                profile: DeveloperProfile {
                    name: Some(format!("Developer {index}")),
                    company: (index % 3 == 0).then(|| "Acme".to_owned()),
                    location: Some(["Lisbon", "Osaka", "Lagos", "Recife"][index % 4].to_owned()),
                    email: None,
                    bio: (index % 2 == 0).then(|| format!("Writes code, number {index}")),
                    public_repos: Some(0),
                    public_gists: Some((index % 7) as i64),
                    followers_count: Some(0),
                    following_count: Some(0),
                    created_at: time(&mut rng, 1_201_824_000, 12 * 365 * 86_400),
                    updated_at: time(&mut rng, 1_577_836_800, 365 * 86_400),
                },
                disk_usage: None,
                raw: json!({"id": github_id, "login": login(index)}),
            };
            batch.extend(upsert_profiles_stmt(&[record], now));
        }
        if batch.len() >= 1_000 {
            db.run_in_transaction(&std::mem::take(&mut batch)).await?;
        }
    }
    db.run_in_transaction(&std::mem::take(&mut batch)).await?;
    // Repositories: prolific owners have many.
    let mut repos = Vec::new();
    for index in 0..scale.repositories {
        let owner = rng.skewed(scale.developers);
        let github_id = 10_000_000 + index as i64;
        repos.push(RepositoryRecord {
            github_id,
            node_id: None,
            owner: ListedDeveloper {
                github_id: owner as i64 + 1,
                login: login(owner),
                node_id: None,
                raw: json!({"id": owner + 1}),
            },
            details: RepositoryDetails {
                name: format!("repo-{index}"),
                full_name: format!("{}/repo-{index}", login(owner)),
                description: Some(format!("Project number {index}")),
                homepage: None,
                language: Some(["Rust", "Python", "Go", "TypeScript", "C"][index % 5].to_owned()),
                created_at: time(&mut rng, 1_325_376_000, 8 * 365 * 86_400),
                updated_at: time(&mut rng, 1_577_836_800, 365 * 86_400),
                has_downloads: Some(true),
                has_issues: Some(true),
                has_pages: Some(index % 9 == 0),
                has_projects: Some(true),
                has_wiki: Some(index % 2 == 0),
                private: Some(false),
                archived: Some(index % 13 == 0),
                disabled: Some(false),
            },
            counts: RepositoryCounts {
                stargazers_count: Some(0),
                subscribers_count: None,
                watchers_count: Some(0),
                open_issues_count: Some((index % 11) as i64),
                // Kilobytes, spread from none to half a gigabyte.
                size: Some(((index * 7_919) % 500_000) as i64),
            },
            source: Source::RestList,
            collaborates: None,
            raw: json!({"id": github_id}),
        });
        if repos.len() == 500 {
            db.run_in_transaction(&upsert_repositories_stmts(&std::mem::take(&mut repos), now))
                .await?;
        }
    }
    db.run_in_transaction(&upsert_repositories_stmts(&repos, now))
        .await?;
    // Follows: popular developers gather most followers. Grouped by followee, as pages are.
    let mut followers: Vec<Vec<(i64, Option<Timestamp>)>> = vec![Vec::new(); scale.developers];
    for _ in 0..scale.follows {
        let followee = rng.skewed(scale.developers);
        let follower = rng.below(scale.developers);
        if follower != followee {
            followers[followee].push((follower as i64 + 1, None));
        }
    }
    write_edges(db, Edge::Followers, followers, |i| i as i64 + 1, now).await?;
    let mut stargazers: Vec<Vec<(i64, Option<Timestamp>)>> = vec![Vec::new(); scale.repositories];
    for _ in 0..scale.stars {
        let repository = rng.skewed(scale.repositories);
        let developer = rng.below(scale.developers) as i64 + 1;
        stargazers[repository].push((developer, time(&mut rng, 1_420_070_400, 5 * 365 * 86_400)));
    }
    write_edges(
        db,
        Edge::Stargazers,
        stargazers,
        |i| 10_000_000 + i as i64,
        now,
    )
    .await?;
    refresh_counts(db).await?;
    settle(db).await?;
    Ok(started.elapsed())
}

/// What autovacuum does to a database in steady state: planner statistics, and on
/// PostgreSQL the visibility map that lets edge lookups read indexes alone.
async fn settle(db: &Db) -> anyhow::Result<()> {
    let statement = match db.pool() {
        Pool::Sqlite(_) => "ANALYZE",
        Pool::Postgres(_) => "VACUUM ANALYZE",
    };
    with_pool!(db, |pool| sqlx::query(statement)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Whether `db` already holds the whole graph of `scale` (a finished earlier run): its
/// totals, and GitHub's counts refreshed, which is the last write.
pub async fn is_complete(db: &Db, scale: Scale) -> anyhow::Result<bool> {
    let complete: bool = with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT (SELECT n FROM row_counts WHERE name = 'developers') = $1 \
         AND (SELECT n FROM row_counts WHERE name = 'repositories') = $2 \
         AND EXISTS (SELECT 1 FROM developers WHERE followers_count > 0)"
    )
    .bind(scale.developers as i64)
    .bind(scale.repositories as i64)
    .fetch_one(pool)
    .await?);
    Ok(complete)
}

/// Links each subject's items 100 at a time (a list page), many pages to a transaction.
async fn write_edges(
    db: &Db,
    edge: Edge,
    by_subject: Vec<Vec<(i64, Option<Timestamp>)>>,
    subject_id: impl Fn(usize) -> i64,
    now: Timestamp,
) -> anyhow::Result<()> {
    let mut batch = Vec::new();
    for (index, mut items) in by_subject.into_iter().enumerate() {
        items.sort_by_key(|(id, _)| *id);
        items.dedup_by_key(|(id, _)| *id);
        for page in items.chunks(100) {
            batch.extend(link_stmt(edge, subject_id(index), page, now));
        }
        if batch.len() >= 200 {
            db.run_in_transaction(&std::mem::take(&mut batch)).await?;
        }
    }
    db.run_in_transaction(&batch).await?;
    Ok(())
}

/// GitHub's counts, set from the stored edges so that the generated graph is in step.
async fn refresh_counts(db: &Db) -> anyhow::Result<()> {
    let statements = [
        "UPDATE developers SET followers_count = (SELECT COUNT(*) FROM follows WHERE followee_id = developers.id), \
         following_count = (SELECT COUNT(*) FROM follows WHERE follower_id = developers.id), \
         public_repos = (SELECT COUNT(*) FROM repositories WHERE owner_id = developers.id) \
         WHERE synced_at IS NOT NULL",
        "UPDATE repositories SET stargazers_count = (SELECT COUNT(*) FROM stars WHERE repository_id = repositories.id), \
         watchers_count = (SELECT COUNT(*) FROM stars WHERE repository_id = repositories.id)",
    ];
    let statements: Vec<Sql> = statements.iter().map(|text| Sql::new(*text)).collect();
    db.run_in_transaction(&statements).await?;
    Ok(())
}
