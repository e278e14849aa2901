//! Follow and star edges as list passes find them. Each edge remembers when a pass last
//! showed it (`seen_at`, the time the page was stored), so a complete pass can drop the edges
//! GitHub no longer lists.
//!
//! The rule that keeps sweeps safe: a mark only ever rises, and a sweep removes only what no
//! pass showed since the sweeping pass began. One mark serves both lists that show an edge
//! (a developer's followers and the follower's following; a starred list and a stargazer
//! list), and passes over them run at once, resume after a crash with their old start, or
//! change API mid-way; had a page stored later written an older time (its pass's start), a
//! pass begun since, which had marked the edge, would sweep an edge it saw.

use super::Timestamp;
use super::columns::value_pairs;
use super::sql::{Sql, SqlValue};

/// A list of GitHub's that yields edges, seen from its subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// A developer's followers.
    Followers,
    /// Those a developer follows.
    Following,
    /// The repositories a developer starred.
    Starred,
    /// A repository's stargazers.
    Stargazers,
}

struct Shape {
    table: &'static str,
    subject_column: &'static str,
    item_column: &'static str,
    subject_table: &'static str,
    item_table: &'static str,
}

impl Edge {
    fn shape(self) -> Shape {
        let (table, subject_column, item_column, subject_table, item_table) = match self {
            Self::Followers => (
                "follows",
                "followee_id",
                "follower_id",
                "developers",
                "developers",
            ),
            Self::Following => (
                "follows",
                "follower_id",
                "followee_id",
                "developers",
                "developers",
            ),
            Self::Starred => (
                "stars",
                "developer_id",
                "repository_id",
                "developers",
                "repositories",
            ),
            Self::Stargazers => (
                "stars",
                "repository_id",
                "developer_id",
                "repositories",
                "developers",
            ),
        };
        Shape {
            table,
            subject_column,
            item_column,
            subject_table,
            item_table,
        }
    }

    fn has_starred_at(self) -> bool {
        matches!(self, Self::Starred | Self::Stargazers)
    }
}

/// Links `subject` to each item (by GitHub ids, with `starred_at` for stars), marking the
/// edges seen at `seen`, the time the page is stored, unless a mark is later already. Items
/// must already be stored.
pub fn link_stmt(
    edge: Edge,
    subject: i64,
    items: &[(i64, Option<Timestamp>)],
    seen: Timestamp,
) -> Option<Sql> {
    if items.is_empty() {
        return None;
    }
    let shape = edge.shape();
    let mut sql = Sql::default();
    let rows = value_pairs(
        &mut sql,
        items.iter().map(|(github_id, starred_at)| {
            (SqlValue::Int(*github_id), SqlValue::time(*starred_at))
        }),
    );
    let (subject, seen) = (
        sql.bind(SqlValue::Int(subject)),
        sql.bind(SqlValue::Time(seen)),
    );
    let (extra_column, extra_value, extra_update) = if edge.has_starred_at() {
        (
            "starred_at, ",
            "v.column2, ",
            ", starred_at = COALESCE(excluded.starred_at, stars.starred_at)",
        )
    } else {
        ("", "", "")
    };
    sql.sql = format!(
        "INSERT INTO {table} ({subject_column}, {item_column}, {extra_column}seen_at) \
         SELECT s.id, i.id, {extra_value}{seen} FROM (VALUES {rows}) v \
         JOIN {item_table} i ON i.github_id = v.column1 \
         JOIN {subject_table} s ON s.github_id = {subject} \
         WHERE TRUE \
         ON CONFLICT ({subject_column}, {item_column}) DO UPDATE SET seen_at = \
         CASE WHEN {table}.seen_at >= excluded.seen_at THEN {table}.seen_at ELSE excluded.seen_at END\
         {extra_update}",
        table = shape.table,
        subject_column = shape.subject_column,
        item_column = shape.item_column,
        item_table = shape.item_table,
        subject_table = shape.subject_table,
    );
    Some(sql)
}

/// Marks the edges to these items seen at `seen`, for a page GitHub said is unchanged;
/// a later mark stays.
pub fn touch_stmt(edge: Edge, subject: i64, item_ids: &[i64], seen: Timestamp) -> Option<Sql> {
    if item_ids.is_empty() {
        return None;
    }
    let shape = edge.shape();
    let mut sql = Sql::default();
    let later = sql.bind(SqlValue::Time(seen));
    let seen = sql.bind(SqlValue::Time(seen));
    let subject = sql.bind(SqlValue::Int(subject));
    let items: Vec<String> = item_ids
        .iter()
        .map(|id| sql.bind(SqlValue::Int(*id)))
        .collect();
    sql.sql = format!(
        "UPDATE {table} SET seen_at = {seen} \
         WHERE {subject_column} = (SELECT id FROM {subject_table} WHERE github_id = {subject}) \
         AND {item_column} IN (SELECT id FROM {item_table} WHERE github_id IN ({items})) \
         AND (seen_at IS NULL OR seen_at < {later})",
        table = shape.table,
        subject_column = shape.subject_column,
        subject_table = shape.subject_table,
        item_column = shape.item_column,
        item_table = shape.item_table,
        items = items.join(", "),
    );
    Some(sql)
}

/// Drops the subject's edges that no pass showed since `pass`, when the complete pass that
/// sweeps began (or, for a list GitHub counts empty, when the count was asked).
pub fn sweep_stmt(edge: Edge, subject: i64, pass: Timestamp) -> Sql {
    let shape = edge.shape();
    let mut sql = Sql::default();
    let (subject, pass) = (
        sql.bind(SqlValue::Int(subject)),
        sql.bind(SqlValue::Time(pass)),
    );
    sql.sql = format!(
        "DELETE FROM {table} \
         WHERE {subject_column} = (SELECT id FROM {subject_table} WHERE github_id = {subject}) \
         AND (seen_at IS NULL OR seen_at < {pass})",
        table = shape.table,
        subject_column = shape.subject_column,
        subject_table = shape.subject_table,
    );
    sql
}
