//! Developers and repositories as GitHub describes them, written in batches: upserts keyed
//! on GitHub's id, so a record is created once and refreshed after.

use serde_json::Value;
use uuid::Uuid;

use super::sql::{Kind, Sql, SqlValue};
use super::{Db, Timestamp};

/// A developer as a list shows them: identity only.
#[derive(Clone, Debug)]
pub struct ListedDeveloper {
    pub github_id: i64,
    pub login: String,
    pub raw: Value,
}

/// A developer's own profile.
#[derive(Clone, Debug)]
pub struct Profile {
    pub github_id: i64,
    pub login: String,
    pub name: Option<String>,
    pub company: Option<String>,
    pub location: Option<String>,
    pub email: Option<String>,
    pub bio: Option<String>,
    pub public_repos: Option<i64>,
    pub public_gists: Option<i64>,
    pub followers_count: Option<i64>,
    pub following_count: Option<i64>,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub raw: Value,
}

/// A repository, from a list (`full` false: no `subscribers_count`) or its own page.
#[derive(Clone, Debug)]
pub struct RepositoryRecord {
    pub github_id: i64,
    pub owner: ListedDeveloper,
    pub name: String,
    pub full_name: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub language: Option<String>,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub has_downloads: Option<bool>,
    pub has_issues: Option<bool>,
    pub has_pages: Option<bool>,
    pub has_projects: Option<bool>,
    pub has_wiki: Option<bool>,
    pub private: Option<bool>,
    pub archived: Option<bool>,
    pub disabled: Option<bool>,
    pub stargazers_count: Option<i64>,
    pub subscribers_count: Option<i64>,
    pub watchers_count: Option<i64>,
    pub open_issues_count: Option<i64>,
    pub full: bool,
    pub raw: Value,
}

/// What sync needs to know of a stored developer.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct KnownDeveloper {
    pub github_id: i64,
    pub login: String,
    pub followers_count: Option<i64>,
    pub following_count: Option<i64>,
    pub public_repos: Option<i64>,
    /// Whether the stored record came from its own page (not only from someone's list).
    pub synced: bool,
}

/// What sync needs to know of a stored repository.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct KnownRepository {
    pub github_id: i64,
    pub full_name: String,
    pub stargazers_count: Option<i64>,
    pub blocked_at: Option<Timestamp>,
    pub gone_at: Option<Timestamp>,
    pub synced: bool,
}

/// Upserts developers seen in a list. A profile already fetched keeps its raw payload;
/// the login always follows GitHub (it can change, the id cannot).
pub fn upsert_listed(developers: &[ListedDeveloper], now: Timestamp) -> Option<Sql> {
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<&ListedDeveloper> = developers
        .iter()
        .filter(|d| seen.insert(d.github_id))
        .collect();
    if unique.is_empty() {
        return None;
    }
    let mut sql =
        Sql::new("INSERT INTO developers (id, github_id, login, raw, inserted_at) VALUES ");
    for (i, developer) in unique.into_iter().enumerate() {
        let row = [
            sql.bind(SqlValue::Id(Uuid::new_v4())),
            sql.bind(SqlValue::Int(developer.github_id)),
            sql.bind(SqlValue::Text(developer.login.clone())),
            sql.bind(SqlValue::Json(developer.raw.clone())),
            sql.bind(SqlValue::Time(now)),
        ];
        sql.push(if i == 0 { "(" } else { ", (" })
            .push(&row.join(", "))
            .push(")");
    }
    sql.push(
        " ON CONFLICT (github_id) DO UPDATE SET login = excluded.login, \
         raw = CASE WHEN developers.synced_at IS NULL THEN excluded.raw ELSE developers.raw END",
    );
    Some(sql)
}

/// Upserts a developer's own profile: every field, and `synced_at`.
pub fn upsert_profile(profile: &Profile, now: Timestamp) -> Sql {
    let mut sql = Sql::default();
    let values = [
        sql.bind(SqlValue::Id(Uuid::new_v4())),
        sql.bind(SqlValue::Int(profile.github_id)),
        sql.bind(SqlValue::Text(profile.login.clone())),
        sql.bind(SqlValue::text(profile.name.as_deref())),
        sql.bind(SqlValue::text(profile.location.as_deref())),
        sql.bind(SqlValue::text(profile.bio.as_deref())),
        sql.bind(SqlValue::text(profile.company.as_deref())),
        sql.bind(SqlValue::text(profile.email.as_deref())),
        sql.bind(SqlValue::time(profile.created_at)),
        sql.bind(SqlValue::time(profile.updated_at)),
        sql.bind(SqlValue::int(profile.followers_count)),
        sql.bind(SqlValue::int(profile.following_count)),
        sql.bind(SqlValue::int(profile.public_gists)),
        sql.bind(SqlValue::int(profile.public_repos)),
        sql.bind(SqlValue::Json(profile.raw.clone())),
        sql.bind(SqlValue::Time(now)),
    ];
    sql.sql = format!(
        "INSERT INTO developers (id, github_id, login, name, location, bio, company, email, \
         created_at, updated_at, followers_count, following_count, public_gists, public_repos, \
         raw, synced_at, inserted_at) VALUES ({}, {now}) \
         ON CONFLICT (github_id) DO UPDATE SET login = excluded.login, name = excluded.name, \
         location = excluded.location, bio = excluded.bio, company = excluded.company, \
         email = excluded.email, created_at = excluded.created_at, updated_at = excluded.updated_at, \
         followers_count = excluded.followers_count, following_count = excluded.following_count, \
         public_gists = excluded.public_gists, public_repos = excluded.public_repos, \
         raw = excluded.raw, synced_at = excluded.synced_at, gone_at = NULL",
        values.join(", "),
        now = values[15],
    );
    sql
}

/// Upserts repositories, their owners first (as listed developers) so the owner link holds.
pub fn upsert_repositories(repositories: &[RepositoryRecord], now: Timestamp) -> Vec<Sql> {
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<&RepositoryRecord> = repositories
        .iter()
        .filter(|r| seen.insert(r.github_id))
        .collect();
    if unique.is_empty() {
        return Vec::new();
    }
    let owners: Vec<ListedDeveloper> = unique.iter().map(|r| r.owner.clone()).collect();
    let mut sql = Sql::new(
        "INSERT INTO repositories (id, github_id, owner_id, owner_github_id, name, full_name, \
         description, homepage, language, created_at, updated_at, has_downloads, has_issues, \
         has_pages, has_projects, has_wiki, private, archived, disabled, stargazers_count, \
         subscribers_count, watchers_count, open_issues_count, raw, synced_at, inserted_at) VALUES ",
    );
    for (i, r) in unique.into_iter().enumerate() {
        let owner_github_id = sql.bind(SqlValue::Int(r.owner.github_id));
        let row = [
            sql.bind(SqlValue::Id(Uuid::new_v4())),
            sql.bind(SqlValue::Int(r.github_id)),
            format!("(SELECT id FROM developers WHERE github_id = {owner_github_id})"),
            owner_github_id,
            sql.bind(SqlValue::Text(r.name.clone())),
            sql.bind(SqlValue::Text(r.full_name.clone())),
            sql.bind(SqlValue::text(r.description.as_deref())),
            sql.bind(SqlValue::text(r.homepage.as_deref())),
            sql.bind(SqlValue::text(r.language.as_deref())),
            sql.bind(SqlValue::time(r.created_at)),
            sql.bind(SqlValue::time(r.updated_at)),
            sql.bind(SqlValue::bool(r.has_downloads)),
            sql.bind(SqlValue::bool(r.has_issues)),
            sql.bind(SqlValue::bool(r.has_pages)),
            sql.bind(SqlValue::bool(r.has_projects)),
            sql.bind(SqlValue::bool(r.has_wiki)),
            sql.bind(SqlValue::bool(r.private)),
            sql.bind(SqlValue::bool(r.archived)),
            sql.bind(SqlValue::bool(r.disabled)),
            sql.bind(SqlValue::int(r.stargazers_count)),
            sql.bind(SqlValue::int(r.subscribers_count)),
            sql.bind(SqlValue::int(r.watchers_count)),
            sql.bind(SqlValue::int(r.open_issues_count)),
            sql.bind(SqlValue::Json(r.raw.clone())),
            sql.bind(if r.full {
                SqlValue::Time(now)
            } else {
                SqlValue::Null(Kind::Time)
            }),
            sql.bind(SqlValue::Time(now)),
        ];
        sql.push(if i == 0 { "(" } else { ", (" })
            .push(&row.join(", "))
            .push(")");
    }
    // A list item lacks subscribers_count and is less than the repository's own page: it
    // refreshes what it carries and keeps the rest.
    sql.push(
        " ON CONFLICT (github_id) DO UPDATE SET owner_id = excluded.owner_id, \
         owner_github_id = excluded.owner_github_id, name = excluded.name, \
         full_name = excluded.full_name, description = excluded.description, \
         homepage = excluded.homepage, language = excluded.language, \
         created_at = excluded.created_at, updated_at = excluded.updated_at, \
         has_downloads = excluded.has_downloads, has_issues = excluded.has_issues, \
         has_pages = excluded.has_pages, has_projects = excluded.has_projects, \
         has_wiki = excluded.has_wiki, private = excluded.private, archived = excluded.archived, \
         disabled = excluded.disabled, stargazers_count = excluded.stargazers_count, \
         subscribers_count = COALESCE(excluded.subscribers_count, repositories.subscribers_count), \
         watchers_count = excluded.watchers_count, open_issues_count = excluded.open_issues_count, \
         raw = CASE WHEN excluded.synced_at IS NOT NULL OR repositories.synced_at IS NULL \
               THEN excluded.raw ELSE repositories.raw END, \
         synced_at = COALESCE(excluded.synced_at, repositories.synced_at), gone_at = NULL",
    );
    let mut statements: Vec<Sql> = upsert_listed(&owners, now).into_iter().collect();
    statements.push(sql);
    statements
}

/// Marks a developer GitHub no longer knows (404/410); what we stored stays.
pub fn mark_developer_gone(login: &str, now: Timestamp) -> Sql {
    let mut sql = Sql::default();
    let (at, login) = (
        sql.bind(SqlValue::Time(now)),
        sql.bind(SqlValue::Text(login.to_owned())),
    );
    sql.sql = format!("UPDATE developers SET gone_at = {at} WHERE lower(login) = lower({login})");
    sql
}

/// Marks a repository gone (404/410) or blocked (451) by `column`.
pub fn mark_repository(full_name: &str, column: RepositoryMark, now: Timestamp) -> Sql {
    let mut sql = Sql::default();
    let (at, name) = (
        sql.bind(SqlValue::Time(now)),
        sql.bind(SqlValue::Text(full_name.to_owned())),
    );
    let column = match column {
        RepositoryMark::Gone => "gone_at",
        RepositoryMark::Blocked => "blocked_at",
    };
    sql.sql =
        format!("UPDATE repositories SET {column} = {at} WHERE lower(full_name) = lower({name})");
    sql
}

#[derive(Clone, Copy, Debug)]
pub enum RepositoryMark {
    Gone,
    Blocked,
}

/// Records that GitHub would not page a repository's stargazers to the end.
pub fn mark_stargazers_truncated(github_id: i64) -> Sql {
    let mut sql = Sql::default();
    let id = sql.bind(SqlValue::Int(github_id));
    sql.sql = format!("UPDATE repositories SET stargazers_truncated = TRUE WHERE github_id = {id}");
    sql
}

const KNOWN_DEVELOPER: &str = "SELECT github_id, login, followers_count, following_count, public_repos, \
     synced_at IS NOT NULL AS synced \
     FROM developers WHERE lower(login) = lower($1) ORDER BY synced_at DESC NULLS LAST LIMIT 1";

const OWNED_REPOSITORIES: &str = "SELECT github_id, full_name, stargazers_count, blocked_at, gone_at, \
     synced_at IS NOT NULL AS synced \
     FROM repositories WHERE owner_github_id = $1 ORDER BY github_id";

const KNOWN_REPOSITORY: &str = "SELECT github_id, full_name, stargazers_count, blocked_at, gone_at, \
     synced_at IS NOT NULL AS synced \
     FROM repositories WHERE lower(full_name) = lower($1)";

/// Developers linked to `subject` (its followers, those it follows, the stargazers of its
/// repositories) or to repository `repository`, known only from lists.
const TO_HYDRATE: &str = "SELECT github_id, login FROM developers WHERE synced_at IS NULL AND gone_at IS NULL AND id IN (\
     SELECT f.follower_id FROM follows f JOIN developers s ON s.id = f.followee_id WHERE s.github_id = $1 \
     UNION SELECT f.followee_id FROM follows f JOIN developers s ON s.id = f.follower_id WHERE s.github_id = $1 \
     UNION SELECT st.developer_id FROM stars st JOIN repositories r ON r.id = st.repository_id \
         WHERE r.owner_github_id = $1 OR r.github_id = $2) \
     ORDER BY github_id";

impl Db {
    pub async fn known_developer(&self, login: &str) -> sqlx::Result<Option<KnownDeveloper>> {
        with_pool!(self, |pool| sqlx::query_as(KNOWN_DEVELOPER)
            .bind(login)
            .fetch_optional(pool)
            .await)
    }

    pub async fn known_repository(&self, full_name: &str) -> sqlx::Result<Option<KnownRepository>> {
        with_pool!(self, |pool| sqlx::query_as(KNOWN_REPOSITORY)
            .bind(full_name)
            .fetch_optional(pool)
            .await)
    }

    pub async fn owned_repositories(
        &self,
        owner_github_id: i64,
    ) -> sqlx::Result<Vec<KnownRepository>> {
        with_pool!(self, |pool| sqlx::query_as(OWNED_REPOSITORIES)
            .bind(owner_github_id)
            .fetch_all(pool)
            .await)
    }

    /// (github id, login) of developers to fetch profiles for, linked to developer
    /// `developer` or repository `repository` (either may be a github id no row has).
    pub async fn developers_to_hydrate(
        &self,
        developer: i64,
        repository: i64,
    ) -> sqlx::Result<Vec<(i64, String)>> {
        with_pool!(self, |pool| sqlx::query_as(TO_HYDRATE)
            .bind(developer)
            .bind(repository)
            .fetch_all(pool)
            .await)
    }
}
