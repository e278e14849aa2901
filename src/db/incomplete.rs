//! Repositories known only from lists, never read from their own page: a GraphQL list leaves
//! out what GraphQL's `Repository` has only as connections (`subscribers_count`,
//! `open_issues_count`) or not at all (`has_downloads`, `has_pages`). The sync completes
//! them; until then `synced_at` is null.

use super::Db;
use super::sql::{Sql, SqlValue};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Incomplete {
    pub github_id: i64,
    pub node_id: Option<String>,
    pub full_name: String,
    /// Whether GitHub's counts are stored already.
    pub counted: bool,
}

impl Db {
    /// The repositories `developers` (GitHub ids) own or starred that were never read from
    /// their own page and are neither gone nor blocked, in GitHub id order.
    pub async fn incomplete_repositories(
        &self,
        developers: &[i64],
    ) -> sqlx::Result<Vec<Incomplete>> {
        if developers.is_empty() {
            return Ok(Vec::new());
        }
        let within = super::listing::in_list(developers.len());
        let sql = format!(
            "SELECT r.github_id, r.node_id, r.full_name, \
             r.subscribers_count IS NOT NULL AS counted FROM repositories r \
             WHERE r.synced_at IS NULL AND r.gone_at IS NULL AND r.blocked_at IS NULL \
             AND (r.owner_github_id {within} OR r.id IN (SELECT st.repository_id FROM stars st \
                 JOIN developers d ON d.id = st.developer_id WHERE d.github_id {within})) \
             ORDER BY r.github_id"
        );
        with_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for id in developers {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })
    }
}

/// The counts GraphQL gives of a repository not read from its own page: its watchers
/// (REST's `subscribers_count`) and its open issues and pull requests (REST's
/// `open_issues_count`, which counts both).
pub fn tallies_stmt(github_id: i64, subscribers: i64, open_issues: i64) -> Sql {
    let mut sql = Sql::default();
    let (subscribers, open_issues, github_id) = (
        sql.bind(SqlValue::Int(subscribers)),
        sql.bind(SqlValue::Int(open_issues)),
        sql.bind(SqlValue::Int(github_id)),
    );
    sql.sql = format!(
        "UPDATE repositories SET subscribers_count = {subscribers}, \
         open_issues_count = {open_issues} WHERE github_id = {github_id} AND synced_at IS NULL"
    );
    sql
}
