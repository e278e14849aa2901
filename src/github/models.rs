//! The parts of GitHub's JSON the service reads. Every record also keeps its raw JSON.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// A user as lists show them: identity only.
#[derive(Clone, Debug, Deserialize)]
pub struct SimpleUser {
    pub id: i64,
    pub login: String,
}

/// A user's own profile (`GET /users/{login}`).
#[derive(Clone, Debug, Deserialize)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
    pub company: Option<String>,
    pub location: Option<String>,
    pub email: Option<String>,
    pub bio: Option<String>,
    pub public_repos: Option<i64>,
    pub public_gists: Option<i64>,
    pub followers: Option<i64>,
    pub following: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A repository, from a list (no `subscribers_count`) or its own page.
#[derive(Clone, Debug, Deserialize)]
pub struct Repository {
    pub id: i64,
    pub name: String,
    pub full_name: String,
    pub owner: SimpleUser,
    pub private: Option<bool>,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub language: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub has_issues: Option<bool>,
    pub has_projects: Option<bool>,
    pub has_downloads: Option<bool>,
    pub has_wiki: Option<bool>,
    pub has_pages: Option<bool>,
    pub archived: Option<bool>,
    pub disabled: Option<bool>,
    pub stargazers_count: Option<i64>,
    pub watchers_count: Option<i64>,
    pub open_issues_count: Option<i64>,
    pub subscribers_count: Option<i64>,
}

/// A stargazer with `Accept: application/vnd.github.star+json`.
#[derive(Clone, Debug, Deserialize)]
pub struct Stargazer {
    pub starred_at: Option<DateTime<Utc>>,
    pub user: SimpleUser,
}

/// A starred repository with `Accept: application/vnd.github.star+json`.
#[derive(Clone, Debug, Deserialize)]
pub struct StarredRepository {
    pub starred_at: Option<DateTime<Utc>>,
    pub repo: Repository,
}

/// The media type that adds `starred_at` to star lists.
pub const STAR_JSON: &str = "application/vnd.github.star+json";
