//! Repositories as the API lists them, and the stargazers of a page of them, loaded at once.

use std::collections::HashMap;

use uuid::Uuid;

use super::listing::{Listing, in_list};
use super::related::Relation;
use super::{Db, Timestamp};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RepositoryRow {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub github_id: i64,
    pub owner_github_id: i64,
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
    pub synced_at: Option<Timestamp>,
    pub gone_at: Option<Timestamp>,
    pub blocked_at: Option<Timestamp>,
    pub stargazers_truncated: bool,
}

pub const REPOSITORIES: Listing = Listing {
    table: "repositories",
    columns: "id, owner_id, github_id, owner_github_id, name, full_name, description, homepage, \
              language, created_at, updated_at, has_downloads, has_issues, has_pages, \
              has_projects, has_wiki, private, archived, disabled, stargazers_count, \
              subscribers_count, watchers_count, open_issues_count, synced_at, gone_at, blocked_at, \
              stargazers_truncated",
    order_by: "created_at DESC NULLS LAST, id",
    counted: true,
};

/// Repositories a developer starred (`{}` is the developer's id).
pub const STARRED_BY: &str = "SELECT repository_id FROM stars WHERE developer_id = {}";

/// The repositories a subject developer starred, and those a subject developer owns.
pub const STARRED: Relation = Relation {
    from: "stars JOIN repositories ON repositories.id = stars.repository_id",
    subject: "stars.developer_id",
    target: &REPOSITORIES,
};
pub const OWNED: Relation = Relation {
    from: "repositories",
    subject: "repositories.owner_id",
    target: &REPOSITORIES,
};

impl Db {
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
