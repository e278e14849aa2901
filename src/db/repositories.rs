//! Repositories: the one list of their fields, how they are stored (from a list or from their
//! own page), listed, and found again by the sync.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::columns::{Fields, ToSql, bind_all, insert_rows, take_offered, unique_by};
use super::developers::{ListedDeveloper, upsert_listed_stmt};
use super::listing::{Listing, in_list};
use super::related::{Relation, through};
use super::sizes::{moved_away_stmt, owner_stmt, sizes_stmts};
use super::sql::{Kind, Sql, SqlValue};
use super::{Db, Key, Timestamp};

crate::columns! {
    /// What GitHub says of a repository, before its stargazers in the API's order: with
    /// `RepositoryCounts`, the one list of a repository's fields (names as GitHub's).
    #[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, sqlx::FromRow, utoipa::ToSchema)]
    pub struct RepositoryDetails {
        pub name: String,
        pub full_name: String,
        pub description: Option<String>,
        pub homepage: Option<String>,
        pub language: Option<String>,
        #[schema(value_type = Option<String>)]
        pub created_at: Option<Timestamp>,
        #[schema(value_type = Option<String>)]
        pub updated_at: Option<Timestamp>,
        pub has_downloads: Option<bool>,
        pub has_issues: Option<bool>,
        pub has_pages: Option<bool>,
        pub has_projects: Option<bool>,
        pub has_wiki: Option<bool>,
        pub private: Option<bool>,
        pub archived: Option<bool>,
        pub disabled: Option<bool>,
    }
}

crate::columns! {
    /// A repository's counts, after its stargazers in the API's order.
    #[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, sqlx::FromRow, utoipa::ToSchema)]
    pub struct RepositoryCounts {
        pub stargazers_count: Option<i64>,
        pub subscribers_count: Option<i64>,
        pub watchers_count: Option<i64>,
        pub open_issues_count: Option<i64>,
        /// Kilobytes, as GitHub reports them (REST's `size`, GraphQL's `diskUsage`).
        pub size: Option<i64>,
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RepositoryRow {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub github_id: i64,
    pub owner_github_id: i64,
    #[sqlx(flatten)]
    pub details: RepositoryDetails,
    #[sqlx(flatten)]
    pub counts: RepositoryCounts,
    pub synced_at: Option<Timestamp>,
    pub gone_at: Option<Timestamp>,
    pub blocked_at: Option<Timestamp>,
    pub stargazers_truncated: bool,
}

/// What `?search=` looks in; the search index (migration 0010) is over exactly these.
pub const REPOSITORY_SEARCH: &[&str] = &["full_name", "description", "language"];

pub const REPOSITORIES: Listing = Listing {
    table: "repositories",
    columns: &[
        &["id", "owner_id", "github_id", "owner_github_id"],
        RepositoryDetails::COLUMNS,
        RepositoryCounts::COLUMNS,
        &["synced_at", "gone_at", "blocked_at", "stargazers_truncated"],
    ],
    order_by: "created_at DESC NULLS LAST, id",
    counted: true,
};

/// Repositories a developer starred (`{}` is the developer's id).
pub const STARRED_BY: &str = "SELECT repository_id FROM stars WHERE developer_id = {}";

/// The repositories a subject developer starred, and those a subject developer owns.
pub const STARRED: Relation =
    through!("stars"."repository_id" => "repositories", "developer_id", &REPOSITORIES);
pub const OWNED: Relation = Relation {
    from: "repositories",
    subject: "repositories.owner_id",
    target: &REPOSITORIES,
};

/// A repository, with what it was read from.
#[derive(Clone, Debug)]
pub struct RepositoryRecord {
    pub github_id: i64,
    pub node_id: Option<String>,
    pub owner: ListedDeveloper,
    pub details: RepositoryDetails,
    pub counts: RepositoryCounts,
    pub source: Source,
    /// Whether GitHub grants the credential more than reading (`collaborations`); `None`
    /// where the record does not say.
    pub collaborates: Option<bool>,
    pub raw: Value,
}

/// Where a repository record comes from, which decides the fields it knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Its own REST page: every field; the record is then synced.
    Page,
    /// A REST list: all but `subscribers_count`.
    RestList,
    /// A GraphQL list: the fields GraphQL has as REST does (no `has_downloads`,
    /// `has_pages`, `subscribers_count` or `open_issues_count`).
    GraphqlList,
}

impl Source {
    /// The columns a record of this source sets; the others keep what is stored.
    fn offered(self) -> Vec<&'static str> {
        let unknown: &[&str] = match self {
            Self::Page => &[],
            Self::RestList => &["subscribers_count"],
            Self::GraphqlList => &[
                "has_downloads",
                "has_pages",
                "subscribers_count",
                "open_issues_count",
            ],
        };
        [RepositoryDetails::COLUMNS, RepositoryCounts::COLUMNS]
            .concat()
            .into_iter()
            .filter(|column| !unknown.contains(column))
            .collect()
    }
}

/// Upserts repositories, their owners first (as listed developers) so the owner link holds.
/// A record sets the fields its source knows and keeps the others; a list item is less than
/// the repository's own page and leaves a synced record's payload alone.
pub fn upsert_repositories_stmts(repositories: &[RepositoryRecord], now: Timestamp) -> Vec<Sql> {
    let unique = unique_by(repositories, |r| r.github_id);
    let owners: Vec<ListedDeveloper> = unique.iter().map(|r| r.owner.clone()).collect();
    let mut statements: Vec<Sql> = upsert_listed_stmt(&owners, now).into_iter().collect();
    let moves: Vec<(i64, i64)> = unique
        .iter()
        .map(|r| (r.github_id, r.owner.github_id))
        .collect();
    statements.extend(moved_away_stmt(&moves));
    for source in [Source::Page, Source::RestList, Source::GraphqlList] {
        let records: Vec<&RepositoryRecord> = unique
            .iter()
            .copied()
            .filter(|r| r.source == source)
            .collect();
        if !records.is_empty() {
            statements.push(upsert_from(source, &records, now));
        }
    }
    let ids: Vec<i64> = unique.iter().map(|r| r.github_id).collect();
    statements.extend(sizes_stmts(&ids, now));
    statements
}

fn upsert_from(source: Source, records: &[&RepositoryRecord], now: Timestamp) -> Sql {
    let columns = [
        &["id", "github_id", "node_id", "owner_id", "owner_github_id"][..],
        RepositoryDetails::COLUMNS,
        RepositoryCounts::COLUMNS,
        &["raw", "synced_at", "inserted_at"],
    ]
    .concat();
    let synced_at = match source {
        Source::Page => SqlValue::Time(now),
        Source::RestList | Source::GraphqlList => SqlValue::Null(Kind::Time),
    };
    let mut sql = insert_rows("repositories", &columns, records, |sql, r| {
        let (id, github_id, node_id) = (
            sql.bind(SqlValue::Id(Uuid::new_v4())),
            sql.bind(SqlValue::Int(r.github_id)),
            sql.bind(r.node_id.to_sql()),
        );
        let owner_github_id = sql.bind(SqlValue::Int(r.owner.github_id));
        let mut cells = vec![
            id,
            github_id,
            node_id,
            format!("(SELECT id FROM developers WHERE github_id = {owner_github_id})"),
            owner_github_id,
        ];
        let mut values = r.details.values();
        values.extend(r.counts.values());
        values.extend([
            SqlValue::Json(r.raw.clone()),
            synced_at.clone(),
            SqlValue::Time(now),
        ]);
        cells.extend(bind_all(sql, values));
        cells
    });
    sql.push(&format!(
        " ON CONFLICT (github_id) DO UPDATE SET owner_id = excluded.owner_id, \
         owner_github_id = excluded.owner_github_id, \
         node_id = COALESCE(excluded.node_id, repositories.node_id), {}, \
         raw = CASE WHEN excluded.synced_at IS NOT NULL OR repositories.synced_at IS NULL \
               THEN excluded.raw ELSE repositories.raw END, \
         synced_at = COALESCE(excluded.synced_at, repositories.synced_at), gone_at = NULL",
        take_offered(&source.offered()),
    ));
    sql
}

/// What GitHub said of a repository it would not serve.
#[derive(Clone, Copy, Debug)]
pub enum RepositoryMark {
    /// 404 or 410.
    Gone,
    /// 451.
    Blocked,
}

/// Marks a repository gone or blocked, what we stored staying, and sums its owner's total
/// again without it.
pub fn mark_stmts(which: Key<'_>, mark: RepositoryMark, now: Timestamp) -> Vec<Sql> {
    let mut sql = Sql::default();
    let at = sql.bind(SqlValue::Time(now));
    let condition = which.condition(&mut sql, "full_name");
    let column = match mark {
        RepositoryMark::Gone => "gone_at",
        RepositoryMark::Blocked => "blocked_at",
    };
    sql.sql = format!("UPDATE repositories SET {column} = {at} WHERE {condition}");
    vec![sql, owner_stmt(which)]
}

/// Records that GitHub would not page a repository's stargazers to the end.
pub fn mark_stargazers_truncated_stmt(github_id: i64) -> Sql {
    let mut sql = Sql::default();
    let id = sql.bind(SqlValue::Int(github_id));
    sql.sql = format!("UPDATE repositories SET stargazers_truncated = TRUE WHERE github_id = {id}");
    sql
}

/// What sync needs to know of a stored repository.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct KnownRepository {
    pub github_id: i64,
    pub node_id: Option<String>,
    pub full_name: String,
    pub stargazers_count: Option<i64>,
    pub blocked_at: Option<Timestamp>,
    pub gone_at: Option<Timestamp>,
    pub synced: bool,
    /// Whether its whole star history was read (then only the latest page is asked).
    pub star_history_read: bool,
}

const KNOWN: &str = "SELECT github_id, node_id, full_name, stargazers_count, blocked_at, gone_at, \
     synced_at IS NOT NULL AS synced, star_history_at IS NOT NULL AS star_history_read \
     FROM repositories";

impl Db {
    pub async fn known_repository(&self, full_name: &str) -> sqlx::Result<Option<KnownRepository>> {
        let sql = format!("{KNOWN} WHERE lower(full_name) = lower($1)");
        with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(full_name)
            .fetch_optional(pool)
            .await)
    }

    pub async fn owned_repositories(
        &self,
        owner_github_id: i64,
    ) -> sqlx::Result<Vec<KnownRepository>> {
        let sql = format!("{KNOWN} WHERE owner_github_id = $1 ORDER BY github_id");
        with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(owner_github_id)
            .fetch_all(pool)
            .await)
    }

    /// The stargazers of every repository in `ids`, in one query whatever their number.
    pub async fn stargazers(&self, ids: &[Uuid]) -> sqlx::Result<HashMap<Uuid, Vec<Uuid>>> {
        let mut stargazers: HashMap<Uuid, Vec<Uuid>> =
            ids.iter().map(|id| (*id, Vec::new())).collect();
        if ids.is_empty() {
            return Ok(stargazers);
        }
        let sql = format!(
            "SELECT repository_id, developer_id FROM stars WHERE repository_id {} \
             ORDER BY repository_id, developer_id",
            in_list(ids.len())
        );
        let rows: Vec<(Uuid, Uuid)> = with_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        for (repository, developer) in rows {
            if let Some(list) = stargazers.get_mut(&repository) {
                list.push(developer);
            }
        }
        Ok(stargazers)
    }
}
