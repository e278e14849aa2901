//! Repository sizes after a write: a row of history when a repository's size is not the one
//! last kept (a row a change, not a sync), and the owners' totals (`repositories_size`)
//! summed again from the repositories stored (and, for a repository GitHub moved to another
//! owner, the old owner's without it). All run in the transaction that wrote the
//! repositories, so the totals and the history never disagree with them.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::columns::bind_all;
use super::sql::{Sql, SqlValue};
use super::{Db, Key, Timestamp};

/// The table of the sizes history.
pub const SIZES: &str = "repository_sizes";

/// The history rows and the owners' totals of the repositories with these GitHub ids, as
/// they stand once written at `now`.
pub fn sizes_stmts(github_ids: &[i64], now: Timestamp) -> Vec<Sql> {
    if github_ids.is_empty() {
        return Vec::new();
    }
    let which = |sql: &mut Sql| {
        let ids = bind_all(
            sql,
            github_ids.iter().map(|id| SqlValue::Int(*id)).collect(),
        );
        format!("github_id IN ({})", ids.join(", "))
    };
    let mut history = Sql::default();
    let at = history.bind(SqlValue::Time(now));
    let condition = which(&mut history);
    // Sizes are never negative: -1 stands for "no row kept yet".
    history.sql = format!(
        "INSERT INTO repository_sizes (repository_id, at, size) \
         SELECT r.id, {at}, r.size FROM repositories r WHERE r.{condition} \
         AND r.size IS NOT NULL AND r.size <> COALESCE((SELECT h.size FROM repository_sizes h \
         WHERE h.repository_id = r.id ORDER BY h.at DESC LIMIT 1), -1) \
         ON CONFLICT (repository_id, at) DO NOTHING"
    );
    let mut owners = Sql::default();
    let condition = which(&mut owners);
    owners.sql = owners_total(&condition);
    vec![history, owners]
}

/// For the repositories of `moves` (GitHub id, owner's GitHub id as GitHub gives it now) that
/// are stored under another owner, that owner's total without them: run before they are
/// written, so a repository GitHub moved leaves its old owner's total, and the totals
/// summed after the write give it to the new one.
pub fn moved_away_stmt(moves: &[(i64, i64)]) -> Option<Sql> {
    if moves.is_empty() {
        return None;
    }
    let mut sql = Sql::default();
    let arms: Vec<String> = moves
        .iter()
        .map(|(github_id, owner)| {
            let github_id = sql.bind(SqlValue::Int(*github_id));
            let owner = sql.bind(SqlValue::Int(*owner));
            format!("(r.github_id = {github_id} AND r.owner_github_id <> {owner})")
        })
        .collect();
    let moving = arms.join(" OR ");
    sql.sql = format!(
        "UPDATE developers SET repositories_size = (SELECT SUM(r.size) FROM repositories r \
         WHERE r.owner_id = developers.id AND r.gone_at IS NULL AND NOT ({moving})) \
         WHERE id IN (SELECT r.owner_id FROM repositories r WHERE {moving})"
    );
    Some(sql)
}

/// The total of the owner of the repository `which` names, once it is marked gone (a gone
/// repository takes no space on GitHub).
pub fn owner_stmt(which: Key<'_>) -> Sql {
    let mut sql = Sql::default();
    let condition = which.condition(&mut sql, "full_name");
    sql.sql = owners_total(&condition);
    sql
}

/// Sums again the totals of the owners of the repositories `condition` selects.
fn owners_total(condition: &str) -> String {
    format!(
        "UPDATE developers SET repositories_size = (SELECT SUM(r.size) FROM repositories r \
         WHERE r.owner_id = developers.id AND r.gone_at IS NULL) \
         WHERE id IN (SELECT owner_id FROM repositories WHERE {condition})"
    )
}

/// A repository's size from a moment on.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, Serialize, ToSchema)]
pub struct SizeRecord {
    /// When the sync saw this size first.
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// Kilobytes.
    pub size: i64,
}

impl Db {
    /// Up to `limit` sizes of the repository `id`, newest first from `offset`.
    pub async fn sizes(&self, id: Uuid, limit: i64, offset: i64) -> sqlx::Result<Vec<SizeRecord>> {
        with_pool!(self, |pool| sqlx::query_as(
            "SELECT at, size FROM repository_sizes WHERE repository_id = $1 \
             ORDER BY at DESC LIMIT $2 OFFSET $3"
        )
        .bind(id)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await)
    }
}
