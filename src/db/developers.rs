//! Developers: the one list of their profile fields, how they are stored (from a list or from
//! their own profile), listed, and found again by the sync.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::columns::{Fields, ToSql, bind_all, insert_rows, take_offered, unique_by};
use super::listing::{Listing, in_list};
use super::related::{Relation, through};
use super::sql::{Sql, SqlValue, bind_values};
use super::{Db, Key, Timestamp};

crate::columns! {
    /// A developer's profile as GitHub's `GET /users/{login}` gives it: the one list of these
    /// fields. The names are the columns' and the API's; GitHub's, where they differ, are
    /// serde renames. A new field goes here (and into the migrations).
    #[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, sqlx::FromRow, utoipa::ToSchema)]
    pub struct DeveloperProfile {
        pub name: Option<String>,
        pub location: Option<String>,
        pub bio: Option<String>,
        pub company: Option<String>,
        pub email: Option<String>,
        /// When the account was created on GitHub (UTC, ISO 8601).
        #[schema(value_type = Option<String>)]
        pub created_at: Option<Timestamp>,
        #[schema(value_type = Option<String>)]
        pub updated_at: Option<Timestamp>,
        #[serde(rename(deserialize = "followers"))]
        pub followers_count: Option<i64>,
        #[serde(rename(deserialize = "following"))]
        pub following_count: Option<i64>,
        pub public_gists: Option<i64>,
        pub public_repos: Option<i64>,
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeveloperRow {
    pub id: Uuid,
    pub github_id: i64,
    pub login: String,
    #[sqlx(flatten)]
    pub profile: DeveloperProfile,
    pub synced_at: Option<Timestamp>,
    pub gone_at: Option<Timestamp>,
    pub repositories_size: Option<i64>,
    pub github_repositories_size: Option<i64>,
}

/// What `?search=` looks in; the search index (migration 0010) is over exactly these.
pub const DEVELOPER_SEARCH: &[&str] = &["login", "name", "company", "location", "bio"];

pub const DEVELOPERS: Listing = Listing {
    table: "developers",
    columns: &[
        &["id", "github_id", "login"],
        DeveloperProfile::COLUMNS,
        &[
            "synced_at",
            "gone_at",
            "repositories_size",
            "github_repositories_size",
        ],
    ],
    order_by: "created_at DESC NULLS LAST, id",
    counted: true,
};

/// Subqueries for the developer lists that hang off another record (`{}` is its id).
pub const FOLLOWERS_OF: &str = "SELECT follower_id FROM follows WHERE followee_id = {}";
pub const FOLLOWED_BY: &str = "SELECT followee_id FROM follows WHERE follower_id = {}";
pub const STARGAZERS_OF: &str = "SELECT developer_id FROM stars WHERE repository_id = {}";

/// The developers who follow a subject developer, and those a subject follows.
pub const FOLLOWERS: Relation =
    through!("follows"."follower_id" => "developers", "followee_id", &DEVELOPERS);
pub const FOLLOWING: Relation =
    through!("follows"."followee_id" => "developers", "follower_id", &DEVELOPERS);
/// The developers who starred a subject repository, and a subject repository's owner.
pub const STARGAZERS: Relation =
    through!("stars"."developer_id" => "developers", "repository_id", &DEVELOPERS);
pub const OWNER: Relation = through!("repositories"."owner_id" => "developers", "id", &DEVELOPERS);

/// A developer as a list shows them: identity only.
#[derive(Clone, Debug)]
pub struct ListedDeveloper {
    pub github_id: i64,
    pub login: String,
    /// GraphQL's id for them.
    pub node_id: Option<String>,
    pub raw: Value,
}

/// A developer's own profile, with the JSON it was read from (REST's or GraphQL's).
#[derive(Clone, Debug)]
pub struct ProfileRecord {
    pub github_id: i64,
    pub login: String,
    pub node_id: Option<String>,
    pub profile: DeveloperProfile,
    /// The kilobytes of their public repositories, where GraphQL gave them
    /// (`totalDiskUsage`); REST's profile does not say.
    pub disk_usage: Option<i64>,
    pub raw: Value,
}

/// Upserts developers seen in a list. A profile already fetched keeps its raw payload;
/// the login always follows GitHub (it can change, the id cannot).
pub fn upsert_listed_stmt(developers: &[ListedDeveloper], now: Timestamp) -> Option<Sql> {
    let unique = unique_by(developers, |d| d.github_id);
    if unique.is_empty() {
        return None;
    }
    let columns = ["id", "github_id", "login", "node_id", "raw", "inserted_at"];
    let mut sql = insert_rows("developers", &columns, &unique, |sql, developer| {
        let values = vec![
            SqlValue::Id(Uuid::new_v4()),
            SqlValue::Int(developer.github_id),
            SqlValue::Text(developer.login.clone()),
            developer.node_id.to_sql(),
            SqlValue::Json(developer.raw.clone()),
            SqlValue::Time(now),
        ];
        bind_all(sql, values)
    });
    sql.push(
        " ON CONFLICT (github_id) DO UPDATE SET login = excluded.login, \
         node_id = COALESCE(excluded.node_id, developers.node_id), \
         raw = CASE WHEN developers.synced_at IS NULL THEN excluded.raw ELSE developers.raw END",
    );
    Some(sql)
}

/// Upserts developers' own profiles: every field, and `synced_at`.
pub fn upsert_profiles_stmt(profiles: &[ProfileRecord], now: Timestamp) -> Option<Sql> {
    let unique = unique_by(profiles, |p| p.github_id);
    if unique.is_empty() {
        return None;
    }
    let columns = [
        &["id", "github_id", "login", "node_id"][..],
        DeveloperProfile::COLUMNS,
        &[
            "github_repositories_size",
            "raw",
            "synced_at",
            "inserted_at",
        ],
    ]
    .concat();
    let mut sql = insert_rows("developers", &columns, &unique, |sql, record| {
        let mut values = vec![
            SqlValue::Id(Uuid::new_v4()),
            SqlValue::Int(record.github_id),
            SqlValue::Text(record.login.clone()),
            record.node_id.to_sql(),
        ];
        values.extend(record.profile.values());
        values.extend([
            SqlValue::int(record.disk_usage),
            SqlValue::Json(record.raw.clone()),
            SqlValue::Time(now),
            SqlValue::Time(now),
        ]);
        bind_all(sql, values)
    });
    sql.push(&format!(
        " ON CONFLICT (github_id) DO UPDATE SET login = excluded.login, \
         node_id = COALESCE(excluded.node_id, developers.node_id), {}, raw = excluded.raw, \
         github_repositories_size = \
             COALESCE(excluded.github_repositories_size, developers.github_repositories_size), \
         synced_at = excluded.synced_at, gone_at = NULL",
        take_offered(DeveloperProfile::COLUMNS)
    ));
    Some(sql)
}

/// Marks a developer GitHub no longer knows (404/410, or GraphQL's `NOT_FOUND`); what we
/// stored stays.
pub fn mark_gone_stmt(who: Key<'_>, now: Timestamp) -> Sql {
    let mut sql = Sql::default();
    let at = sql.bind(SqlValue::Time(now));
    let condition = who.condition(&mut sql, "login");
    sql.sql = format!("UPDATE developers SET gone_at = {at} WHERE {condition}");
    sql
}

/// What sync needs to know of a stored developer.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct KnownDeveloper {
    pub github_id: i64,
    pub login: String,
    pub node_id: Option<String>,
    pub followers_count: Option<i64>,
    pub following_count: Option<i64>,
    pub public_repos: Option<i64>,
    /// Whether the stored record came from its own page (not only from someone's list).
    pub synced: bool,
    /// Whether GitHub answered that the account is gone.
    pub gone: bool,
}

pub(super) const KNOWN_DEVELOPER: &str = "SELECT github_id, login, node_id, followers_count, following_count, \
     public_repos, synced_at IS NOT NULL AS synced, gone_at IS NOT NULL AS gone FROM developers";

/// A developer known only from lists, whose profile is to be fetched.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Unhydrated {
    pub github_id: i64,
    pub login: String,
    pub node_id: Option<String>,
}

/// Developers whose stored edges disagree with the counts GitHub gave, or whose profile was
/// never fetched: what discovery syncs, least recently synced first. The correlated counts
/// run only until enough rows are found, walking the `synced_at` index.
const OUT_OF_STEP: &str = "d.gone_at IS NULL AND ( \
       d.synced_at IS NULL \
    OR d.followers_count <> (SELECT COUNT(*) FROM follows f WHERE f.followee_id = d.id) \
    OR d.following_count <> (SELECT COUNT(*) FROM follows f WHERE f.follower_id = d.id) \
    OR d.public_repos <> (SELECT COUNT(*) FROM repositories r WHERE r.owner_id = d.id))";
const DISCOVERY_ORDER: &str = "ORDER BY d.synced_at NULLS FIRST, d.id";

/// The ids a developer's relations point at, each list in id order.
#[derive(Clone, Debug, Default)]
pub struct DeveloperRelations {
    pub followers: Vec<Uuid>,
    pub following: Vec<Uuid>,
    pub starred_repositories: Vec<Uuid>,
    pub repositories: Vec<Uuid>,
}

impl Db {
    /// The developer `who` names; by login, the one with a profile first (an old login may
    /// linger on a record not synced since its owner was renamed).
    pub async fn known_developer(&self, who: Key<'_>) -> sqlx::Result<Option<KnownDeveloper>> {
        let mut sql = Sql::new(KNOWN_DEVELOPER);
        let condition = who.condition(&mut sql, "login");
        sql.push(&format!(
            " WHERE {condition} ORDER BY synced_at DESC NULLS LAST LIMIT 1"
        ));
        with_pool!(self, |pool| bind_values!(
            sqlx::query_as(&sql.sql),
            &sql.values
        )
        .fetch_optional(pool)
        .await)
    }

    /// The developers of these GitHub ids that are stored, in no order.
    pub async fn known_developers(&self, github_ids: &[i64]) -> sqlx::Result<Vec<KnownDeveloper>> {
        if github_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(KNOWN_DEVELOPER);
        let ids = bind_all(
            &mut sql,
            github_ids.iter().map(|id| SqlValue::Int(*id)).collect(),
        );
        sql.push(&format!(" WHERE github_id IN ({})", ids.join(", ")));
        with_pool!(self, |pool| bind_values!(
            sqlx::query_as(&sql.sql),
            &sql.values
        )
        .fetch_all(pool)
        .await)
    }

    /// Developers known only from lists linked to one of `developers` (their followers,
    /// those they follow, the stargazers of their repositories) or to one of `repositories`
    /// (its stargazers); by GitHub ids.
    pub async fn developers_to_hydrate(
        &self,
        developers: &[i64],
        repositories: &[i64],
    ) -> sqlx::Result<Vec<Unhydrated>> {
        let ids = |from: usize, n: usize| -> String {
            let placeholders: Vec<String> = (from..from + n).map(|i| format!("${i}")).collect();
            format!("({})", placeholders.join(", "))
        };
        let (devs, repos) = (
            ids(1, developers.len().max(1)),
            ids(developers.len().max(1) + 1, repositories.len().max(1)),
        );
        let sql = format!(
            "SELECT github_id, login, node_id FROM developers \
             WHERE synced_at IS NULL AND gone_at IS NULL AND id IN ( \
             SELECT f.follower_id FROM follows f JOIN developers s ON s.id = f.followee_id \
                 WHERE s.github_id IN {devs} \
             UNION SELECT f.followee_id FROM follows f JOIN developers s ON s.id = f.follower_id \
                 WHERE s.github_id IN {devs} \
             UNION SELECT st.developer_id FROM stars st JOIN repositories r ON r.id = st.repository_id \
                 WHERE r.owner_github_id IN {devs} OR r.github_id IN {repos}) \
             ORDER BY github_id"
        );
        // An empty list still binds one id no row has.
        let bound = |list: &[i64]| {
            if list.is_empty() {
                vec![0]
            } else {
                list.to_vec()
            }
        };
        with_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for id in bound(developers).into_iter().chain(bound(repositories)) {
                query = query.bind(id);
            }
            query.fetch_all(pool).await
        })
    }

    /// Those of the developers `ids` (GitHub ids) known only from lists.
    pub async fn unhydrated(&self, ids: &[i64]) -> sqlx::Result<Vec<Unhydrated>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT github_id, login, node_id FROM developers \
             WHERE synced_at IS NULL AND gone_at IS NULL AND github_id {} ORDER BY github_id",
            in_list(ids.len())
        );
        with_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })
    }

    /// Up to `limit` logins the discovery scraper should sync in full.
    pub async fn out_of_step_developers(&self, limit: i64) -> sqlx::Result<Vec<String>> {
        let sql = format!(
            "SELECT login FROM developers d WHERE {OUT_OF_STEP} {DISCOVERY_ORDER} LIMIT $1"
        );
        with_pool!(self, |pool| sqlx::query_scalar(&sql)
            .bind(limit)
            .fetch_all(pool)
            .await)
    }

    /// Takes up to `limit` logins discovery would sync that no crawl queued since `since`,
    /// marking them queued `now` in the same statement; the mark is checked again on the
    /// rows it locks, so two workers looking at once take different ones.
    pub async fn take_crawl_candidates(
        &self,
        limit: i64,
        since: Timestamp,
        now: Timestamp,
    ) -> sqlx::Result<Vec<String>> {
        let sql = format!(
            "UPDATE developers SET queued_at = $3 \
             WHERE (queued_at IS NULL OR queued_at < $2) AND id IN ( \
                 SELECT id FROM developers d WHERE (d.queued_at IS NULL OR d.queued_at < $2) \
                 AND {OUT_OF_STEP} {DISCOVERY_ORDER} LIMIT $1) \
             RETURNING login"
        );
        with_pool!(self, |pool| sqlx::query_scalar(&sql)
            .bind(limit)
            .bind(since)
            .bind(now)
            .fetch_all(pool)
            .await)
    }

    /// The relations of every developer in `ids` that `wanted` names (of `followers`,
    /// `following`, `starred_repositories` and `repositories`), in one query whatever their
    /// number; the others are left empty.
    pub async fn developer_relations(
        &self,
        ids: &[Uuid],
        wanted: impl Fn(&str) -> bool,
    ) -> sqlx::Result<HashMap<Uuid, DeveloperRelations>> {
        let mut relations: HashMap<Uuid, DeveloperRelations> = ids
            .iter()
            .map(|id| (*id, DeveloperRelations::default()))
            .collect();
        if ids.is_empty() {
            return Ok(relations);
        }
        let within = in_list(ids.len());
        let parts: Vec<String> = [
            ("followers", "followee_id", "follower_id", "follows"),
            ("following", "follower_id", "followee_id", "follows"),
            (
                "starred_repositories",
                "developer_id",
                "repository_id",
                "stars",
            ),
            ("repositories", "owner_id", "id", "repositories"),
        ]
        .into_iter()
        .enumerate()
        .filter(|(_, (list, ..))| wanted(list))
        .map(|(kind, (_, subject, other, table))| {
            format!(
                "SELECT CAST({kind} AS BIGINT) AS kind, {subject} AS subject, {other} AS other \
                 FROM {table} WHERE {subject} {within}"
            )
        })
        .collect();
        if parts.is_empty() {
            return Ok(relations);
        }
        let sql = format!(
            "{} ORDER BY kind, subject, other",
            parts.join(" UNION ALL ")
        );
        let rows: Vec<(i64, Uuid, Uuid)> = with_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        for (kind, subject, other) in rows {
            let Some(entry) = relations.get_mut(&subject) else {
                continue;
            };
            let list = match kind {
                0 => &mut entry.followers,
                1 => &mut entry.following,
                2 => &mut entry.starred_repositories,
                _ => &mut entry.repositories,
            };
            list.push(other);
        }
        Ok(relations)
    }
}
