//! Developers as the API lists them, and the relations of a page of them, loaded at once.

use std::collections::HashMap;

use uuid::Uuid;

use super::listing::{Listing, in_list};
use super::related::Relation;
use super::{Db, Timestamp};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeveloperRow {
    pub id: Uuid,
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
    pub gone_at: Option<Timestamp>,
}

pub const DEVELOPERS: Listing = Listing {
    table: "developers",
    columns: "id, github_id, login, name, location, bio, company, email, created_at, updated_at, \
              followers_count, following_count, public_gists, public_repos, synced_at, gone_at",
    order_by: "created_at DESC NULLS LAST, id",
    counted: true,
};

/// Subqueries for the developer lists that hang off another record (`{}` is its id).
pub const FOLLOWERS_OF: &str = "SELECT follower_id FROM follows WHERE followee_id = {}";
pub const FOLLOWED_BY: &str = "SELECT followee_id FROM follows WHERE follower_id = {}";
pub const STARGAZERS_OF: &str = "SELECT developer_id FROM stars WHERE repository_id = {}";

/// The developers who follow a subject developer, and those a subject follows.
pub const FOLLOWERS: Relation = Relation {
    from: "follows JOIN developers ON developers.id = follows.follower_id",
    subject: "follows.followee_id",
    target: &DEVELOPERS,
};
pub const FOLLOWING: Relation = Relation {
    from: "follows JOIN developers ON developers.id = follows.followee_id",
    subject: "follows.follower_id",
    target: &DEVELOPERS,
};
/// The developers who starred a subject repository, and a subject repository's owner.
pub const STARGAZERS: Relation = Relation {
    from: "stars JOIN developers ON developers.id = stars.developer_id",
    subject: "stars.repository_id",
    target: &DEVELOPERS,
};
pub const OWNER: Relation = Relation {
    from: "repositories JOIN developers ON developers.id = repositories.owner_id",
    subject: "repositories.id",
    target: &DEVELOPERS,
};

/// Developers whose stored edges disagree with the counts GitHub gave, or whose profile was
/// never fetched: least recently synced first. The correlated counts run only until enough
/// rows are found, walking the `synced_at` index.
const OUT_OF_STEP: &str = "SELECT login FROM developers d WHERE d.gone_at IS NULL AND ( \
       d.synced_at IS NULL \
    OR d.followers_count <> (SELECT COUNT(*) FROM follows f WHERE f.followee_id = d.id) \
    OR d.following_count <> (SELECT COUNT(*) FROM follows f WHERE f.follower_id = d.id) \
    OR d.public_repos <> (SELECT COUNT(*) FROM repositories r WHERE r.owner_id = d.id)) \
    ORDER BY d.synced_at NULLS FIRST, d.id LIMIT $1";

/// The ids a developer's relations point at, each list in id order.
#[derive(Clone, Debug, Default)]
pub struct DeveloperRelations {
    pub followers: Vec<Uuid>,
    pub following: Vec<Uuid>,
    pub starred_repositories: Vec<Uuid>,
    pub repositories: Vec<Uuid>,
}

impl Db {
    /// Up to `limit` logins the discovery scraper should sync in full.
    pub async fn out_of_step_developers(&self, limit: i64) -> sqlx::Result<Vec<String>> {
        with_pool!(self, |pool| sqlx::query_scalar(OUT_OF_STEP)
            .bind(limit)
            .fetch_all(pool)
            .await)
    }

    /// All four relations of every developer in `ids`, in one query whatever their number.
    pub async fn developer_relations(
        &self,
        ids: &[Uuid],
    ) -> sqlx::Result<HashMap<Uuid, DeveloperRelations>> {
        let mut relations: HashMap<Uuid, DeveloperRelations> = ids
            .iter()
            .map(|id| (*id, DeveloperRelations::default()))
            .collect();
        if ids.is_empty() {
            return Ok(relations);
        }
        let within = in_list(ids.len());
        let sql = format!(
            "SELECT CAST(0 AS BIGINT) AS kind, followee_id AS subject, follower_id AS other \
                 FROM follows WHERE followee_id {within} \
             UNION ALL SELECT CAST(1 AS BIGINT), follower_id, followee_id \
                 FROM follows WHERE follower_id {within} \
             UNION ALL SELECT CAST(2 AS BIGINT), developer_id, repository_id \
                 FROM stars WHERE developer_id {within} \
             UNION ALL SELECT CAST(3 AS BIGINT), owner_id, id \
                 FROM repositories WHERE owner_id {within} \
             ORDER BY kind, subject, other"
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
