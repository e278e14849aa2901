//! Repositories GitHub says the credential administers or collaborates on (REST's
//! `permissions`, GraphQL's `viewerPermission`): GitHub serves their stargazer lists to it
//! while it restricts everyone else's, so a restriction learnt elsewhere does not close them.

use std::collections::HashSet;

use super::Db;
use super::columns::{bind_all, insert_rows};
use super::repositories::RepositoryRecord;
use super::sql::{Sql, SqlValue, bind_values};

impl Db {
    /// Those of `repositories` (GitHub ids) GitHub last said `credential` collaborates on.
    pub async fn collaborating(
        &self,
        credential: &str,
        repositories: &[i64],
    ) -> sqlx::Result<HashSet<i64>> {
        if repositories.is_empty() {
            return Ok(HashSet::new());
        }
        let sql = of_credential("SELECT repository_github_id", credential, repositories);
        let found: Vec<i64> = with_pool!(self, |pool| bind_values!(
            sqlx::query_scalar(&sql.sql),
            &sql.values
        )
        .fetch_all(pool)
        .await)?;
        Ok(found.into_iter().collect())
    }
}

/// Keeps what `repositories` say of `credential`'s permission in each: a collaboration added
/// where GitHub grants more than reading, dropped where it grants only that; the others
/// (records that do not say) stay as they are.
pub fn collaborations_stmts(credential: &str, repositories: &[RepositoryRecord]) -> Vec<Sql> {
    let mut ids: Vec<(i64, bool)> = repositories
        .iter()
        .filter_map(|r| {
            r.collaborates
                .map(|collaborates| (r.github_id, collaborates))
        })
        .collect();
    // In the order of their ids, as the repositories' own rows are locked.
    ids.sort_unstable();
    ids.dedup_by_key(|(id, _)| *id);
    let (granted, read_only): (Vec<_>, Vec<_>) = ids.into_iter().partition(|(_, c)| *c);
    let mut statements = Vec::new();
    if !granted.is_empty() {
        let mut sql = insert_rows(
            "collaborations",
            &["credential", "repository_github_id"],
            &granted,
            |sql, (id, _)| {
                bind_all(
                    sql,
                    vec![SqlValue::Text(credential.to_owned()), SqlValue::Int(*id)],
                )
            },
        );
        sql.push(" ON CONFLICT (credential, repository_github_id) DO NOTHING");
        statements.push(sql);
    }
    let dropped: Vec<i64> = read_only.into_iter().map(|(id, _)| id).collect();
    if !dropped.is_empty() {
        statements.push(no_longer_collaborates_stmt(credential, &dropped));
    }
    statements
}

/// GitHub no longer lets `credential` read as a collaborator in `repositories`.
pub fn no_longer_collaborates_stmt(credential: &str, repositories: &[i64]) -> Sql {
    of_credential("DELETE", credential, repositories)
}

/// `verb` (`SELECT …`, `DELETE`) over the rows of `credential` in `repositories`.
fn of_credential(verb: &str, credential: &str, repositories: &[i64]) -> Sql {
    let mut sql = Sql::default();
    let credential = sql.bind(SqlValue::Text(credential.to_owned()));
    let ids = bind_all(
        &mut sql,
        repositories.iter().map(|id| SqlValue::Int(*id)).collect(),
    );
    sql.sql = format!(
        "{verb} FROM collaborations WHERE credential = {credential} \
         AND repository_github_id IN ({})",
        ids.join(", ")
    );
    sql
}
