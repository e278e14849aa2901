//! Records written straight into the database, for the API to serve.

use chrono::DateTime;
use gitomatic::db::{Db, Timestamp};
use gitomatic::with_pool;
use uuid::Uuid;

pub fn at(text: &str) -> Option<Timestamp> {
    Some(Timestamp(
        DateTime::parse_from_rfc3339(text)
            .expect("RFC 3339")
            .to_utc(),
    ))
}

#[derive(Clone, Debug, Default)]
pub struct Dev {
    pub github_id: i64,
    pub login: String,
    pub name: Option<String>,
    pub location: Option<String>,
    pub bio: Option<String>,
    pub company: Option<String>,
    pub email: Option<String>,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub followers_count: Option<i64>,
    pub following_count: Option<i64>,
    pub public_gists: Option<i64>,
    pub public_repos: Option<i64>,
    pub synced_at: Option<Timestamp>,
}

/// A developer known only by id and login, as from someone's follower list.
pub fn dev(github_id: i64, login: &str) -> Dev {
    Dev {
        github_id,
        login: login.to_owned(),
        ..Dev::default()
    }
}

pub async fn developer(db: &Db, d: Dev) -> Uuid {
    let id = Uuid::new_v4();
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO developers (id, github_id, login, name, location, bio, company, email, \
         created_at, updated_at, followers_count, following_count, public_gists, public_repos, \
         synced_at, inserted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    )
    .bind(id)
    .bind(d.github_id)
    .bind(&d.login)
    .bind(&d.name)
    .bind(&d.location)
    .bind(&d.bio)
    .bind(&d.company)
    .bind(&d.email)
    .bind(d.created_at)
    .bind(d.updated_at)
    .bind(d.followers_count)
    .bind(d.following_count)
    .bind(d.public_gists)
    .bind(d.public_repos)
    .bind(d.synced_at)
    .bind(Timestamp::now())
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
    id
}

#[derive(Clone, Debug, Default)]
pub struct Repo {
    pub github_id: i64,
    pub owner_id: Option<Uuid>,
    pub owner_github_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub language: Option<String>,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub private: Option<bool>,
    pub archived: Option<bool>,
    pub has_wiki: Option<bool>,
    pub stargazers_count: Option<i64>,
    pub subscribers_count: Option<i64>,
    pub size: Option<i64>,
    pub synced_at: Option<Timestamp>,
}

pub fn repo(github_id: i64, owner: (Uuid, i64, &str), name: &str) -> Repo {
    Repo {
        github_id,
        owner_id: Some(owner.0),
        owner_github_id: owner.1,
        name: format!("{}/{name}", owner.2),
        ..Repo::default()
    }
}

pub async fn repository(db: &Db, r: Repo) -> Uuid {
    let id = Uuid::new_v4();
    let (owner_login, name) = r.name.split_once('/').expect("owner/name");
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO repositories (id, github_id, owner_id, owner_github_id, name, full_name, \
         description, homepage, language, created_at, updated_at, has_downloads, has_issues, \
         has_pages, has_projects, has_wiki, private, archived, disabled, stargazers_count, \
         subscribers_count, watchers_count, open_issues_count, inserted_at, synced_at, size) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, TRUE, TRUE, FALSE, TRUE, $12, $13, \
         $14, FALSE, $15, $16, $15, 0, $17, $18, $19)"
    )
    .bind(id)
    .bind(r.github_id)
    .bind(r.owner_id)
    .bind(r.owner_github_id)
    .bind(name)
    .bind(format!("{owner_login}/{name}"))
    .bind(&r.description)
    .bind(&r.homepage)
    .bind(&r.language)
    .bind(r.created_at)
    .bind(r.updated_at)
    .bind(r.has_wiki)
    .bind(r.private)
    .bind(r.archived)
    .bind(r.stargazers_count)
    .bind(r.subscribers_count)
    .bind(Timestamp::now())
    .bind(r.synced_at)
    .bind(r.size)
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
    id
}

pub async fn follow(db: &Db, follower: Uuid, followee: Uuid) {
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)"
    )
    .bind(follower)
    .bind(followee)
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
}

pub async fn star(db: &Db, developer: Uuid, repository: Uuid) {
    with_pool!(db, |pool| sqlx::query(
        "INSERT INTO stars (developer_id, repository_id) VALUES ($1, $2)"
    )
    .bind(developer)
    .bind(repository)
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
}

/// A rate-limit row; `core` takes id 1, as the GitHub client stores it.
pub async fn rate_limit(db: &Db, resource: &str, limit: i64, remaining: i64, reset: i64) {
    let id: Option<i64> = (resource == "core").then_some(1);
    with_pool!(db, |pool| {
        sqlx::query(
        "INSERT INTO rate_limits (id, resource, rate_limit, rate_remaining, rate_reset_raw, \
         rate_reset, updated_at) VALUES (COALESCE($1, (SELECT COALESCE(MAX(id), 1) + 1 FROM rate_limits)), \
         $2, $3, $4, $5, $6, $7)"
    )
    .bind(id)
    .bind(resource)
    .bind(limit)
    .bind(remaining)
    .bind(reset)
    .bind(Timestamp(DateTime::from_timestamp(reset, 0).unwrap()))
    .bind(Timestamp::now())
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap()
    });
}
