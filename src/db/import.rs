//! Writing records imported from another service: each batch merges into what is stored
//! (what we have wins, what we lack is filled in), so importing twice changes nothing, and
//! is written in one transaction with the point the import reached.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::columns::{Fields, ToSql, bind_all, insert_rows, unique_by, value_pairs};
use super::developers::DeveloperProfile;
use super::repositories::{RepositoryCounts, RepositoryDetails};
use super::sql::{Sql, SqlValue};
use super::{Db, Timestamp};

/// A developer as the other service stored them, under its id.
#[derive(Clone, Debug)]
pub struct ImportedDeveloper {
    pub record: ImportedRecord,
    pub login: String,
    pub profile: DeveloperProfile,
}

#[derive(Clone, Debug)]
pub struct ImportedRepository {
    pub record: ImportedRecord,
    /// The owner's id in the other service.
    pub owner_id: Uuid,
    pub owner_github_id: i64,
    pub details: RepositoryDetails,
    pub counts: RepositoryCounts,
}

/// What an imported developer or repository carries besides its fields.
#[derive(Clone, Debug)]
pub struct ImportedRecord {
    pub id: Uuid,
    pub github_id: i64,
    pub node_id: Option<String>,
    pub raw: Value,
    /// Whether the other service had fetched the record's own page.
    pub complete: bool,
}

impl ImportedRecord {
    /// The values of `raw`, `synced_at` and `inserted_at`.
    fn payload(&self, now: Timestamp) -> [SqlValue; 3] {
        [
            SqlValue::Json(self.raw.clone()),
            SqlValue::time(self.complete.then_some(now)),
            SqlValue::Time(now),
        ]
    }

    /// The record's ids in both services: the alias its id becomes if the github id is
    /// stored under another.
    fn alias(&self) -> (Uuid, i64) {
        (self.id, self.github_id)
    }
}

/// `a = COALESCE(table.a, excluded.a), …`: what is stored stays, what is missing is taken.
fn fill_missing(table: &str, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("{c} = COALESCE({table}.{c}, excluded.{c})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The raw payload and `synced_at` of a merged record: a complete one wins over one known
/// only from lists.
fn merge_payload(table: &str) -> String {
    format!(
        "raw = CASE WHEN {table}.synced_at IS NULL AND excluded.synced_at IS NOT NULL \
         THEN excluded.raw ELSE COALESCE({table}.raw, excluded.raw) END, \
         synced_at = COALESCE({table}.synced_at, excluded.synced_at)"
    )
}

/// The stored id an imported id stands for (`$` is its placeholder): itself, or the record
/// it was merged into.
fn resolved(placeholder: &str) -> String {
    format!(
        "COALESCE((SELECT x.id FROM record_aliases x WHERE x.alias_id = {placeholder}), {placeholder})"
    )
}

/// Records the imported ids that were merged into a record stored under another id.
fn aliases_stmt(table: &str, pairs: &[(Uuid, i64)]) -> Sql {
    let mut sql = Sql::default();
    let rows = value_pairs(&mut sql, pairs.iter().copied());
    sql.sql = format!(
        "INSERT INTO record_aliases (alias_id, id, kind) \
         SELECT v.column1, t.id, '{table}' FROM (VALUES {rows}) v \
         JOIN {table} t ON t.github_id = v.column2 WHERE t.id <> v.column1 \
         ON CONFLICT (alias_id) DO NOTHING"
    );
    sql
}

/// Developers under their own ids, merged by GitHub id into those already stored.
pub fn developers_stmts(developers: &[ImportedDeveloper], now: Timestamp) -> Vec<Sql> {
    let unique = unique_by(developers, |d| d.record.github_id);
    if unique.is_empty() {
        return Vec::new();
    }
    let columns = [
        &["id", "github_id", "login", "node_id"][..],
        DeveloperProfile::COLUMNS,
        &["raw", "synced_at", "inserted_at"],
    ]
    .concat();
    let mut upsert = insert_rows("developers", &columns, &unique, |sql, d| {
        let mut values = vec![
            SqlValue::Id(d.record.id),
            SqlValue::Int(d.record.github_id),
            SqlValue::Text(d.login.clone()),
            d.record.node_id.to_sql(),
        ];
        values.extend(d.profile.values());
        values.extend(d.record.payload(now));
        bind_all(sql, values)
    });
    upsert.push(&format!(
        " ON CONFLICT (github_id) DO UPDATE SET {}, {}",
        fill_missing(
            "developers",
            &[&["node_id"][..], DeveloperProfile::COLUMNS].concat()
        ),
        merge_payload("developers")
    ));
    let pairs: Vec<(Uuid, i64)> = developers.iter().map(|d| d.record.alias()).collect();
    vec![upsert, aliases_stmt("developers", &pairs)]
}

/// Repositories, their owners found among the stored developers (or none).
pub fn repositories_stmts(repositories: &[ImportedRepository], now: Timestamp) -> Vec<Sql> {
    let unique = unique_by(repositories, |r| r.record.github_id);
    if unique.is_empty() {
        return Vec::new();
    }
    let columns = [
        &["id", "github_id", "owner_id", "owner_github_id", "node_id"][..],
        RepositoryDetails::COLUMNS,
        RepositoryCounts::COLUMNS,
        &["raw", "synced_at", "inserted_at"],
    ]
    .concat();
    let mut upsert = insert_rows("repositories", &columns, &unique, |sql, r| {
        let mut cells = vec![
            sql.bind(SqlValue::Id(r.record.id)),
            sql.bind(SqlValue::Int(r.record.github_id)),
        ];
        let owner = sql.bind(SqlValue::Id(r.owner_id));
        cells.push(format!(
            "(SELECT d.id FROM developers d WHERE d.id = {})",
            resolved(&owner)
        ));
        let mut values = vec![SqlValue::Int(r.owner_github_id), r.record.node_id.to_sql()];
        values.extend(r.details.values());
        values.extend(r.counts.values());
        values.extend(r.record.payload(now));
        cells.extend(bind_all(sql, values));
        cells
    });
    let filled = [
        &["owner_id", "node_id"][..],
        RepositoryDetails::COLUMNS,
        RepositoryCounts::COLUMNS,
    ]
    .concat();
    upsert.push(&format!(
        " ON CONFLICT (github_id) DO UPDATE SET {}, {}",
        fill_missing("repositories", &filled),
        merge_payload("repositories")
    ));
    let pairs: Vec<(Uuid, i64)> = repositories.iter().map(|r| r.record.alias()).collect();
    vec![upsert, aliases_stmt("repositories", &pairs)]
}

/// Follows (follower, followee) or stars (developer, repository), by imported ids; an edge
/// whose ends are not both stored is left out.
pub fn edges_stmt(stars: bool, pairs: &[(Uuid, Uuid)]) -> Option<Sql> {
    if pairs.is_empty() {
        return None;
    }
    let (table, columns, target_table) = if stars {
        ("stars", "developer_id, repository_id", "repositories")
    } else {
        ("follows", "follower_id, followee_id", "developers")
    };
    let mut sql = Sql::default();
    let rows = value_pairs(&mut sql, pairs.iter().copied());
    sql.sql = format!(
        "INSERT INTO {table} ({columns}) SELECT a.id, b.id FROM (VALUES {rows}) v \
         JOIN developers a ON a.id = {} JOIN {target_table} b ON b.id = {} \
         WHERE TRUE ON CONFLICT ({columns}) DO NOTHING",
        resolved("v.column1"),
        resolved("v.column2"),
    );
    Some(sql)
}

/// An API user of the other service, with its password hash as stored there.
#[derive(Clone, Debug)]
pub struct ImportedUser {
    pub username: String,
    pub password_hash: String,
    pub joined: Timestamp,
}

/// Users not already here by name (a user of ours keeps their password).
pub fn users_stmt(users: &[ImportedUser], now: Timestamp) -> Option<Sql> {
    if users.is_empty() {
        return None;
    }
    let columns = [
        "id",
        "username",
        "password_hash",
        "created_at",
        "updated_at",
    ];
    let mut sql = insert_rows("api_users", &columns, users, |sql, user| {
        bind_all(
            sql,
            vec![
                SqlValue::Id(Uuid::new_v4()),
                SqlValue::Text(user.username.clone()),
                SqlValue::Text(user.password_hash.clone()),
                SqlValue::Time(user.joined),
                SqlValue::Time(now),
            ],
        )
    });
    sql.push(" ON CONFLICT (username) DO NOTHING");
    Some(sql)
}

/// The core quota as the other service last saw it, unless ours is of a later window. It
/// was no credential's of ours, so none takes it for its own.
pub fn core_rate_limit_stmt(
    limit: i64,
    remaining: i64,
    reset_raw: i64,
    reset: Timestamp,
    now: Timestamp,
) -> Sql {
    let mut sql = Sql::default();
    let values = bind_all(
        &mut sql,
        vec![
            SqlValue::Int(limit),
            SqlValue::Int(remaining),
            SqlValue::Int(reset_raw),
            SqlValue::Time(reset),
            SqlValue::Time(now),
        ],
    );
    sql.sql = format!(
        "INSERT INTO rate_limits (id, resource, rate_limit, rate_remaining, rate_reset_raw, \
         rate_reset, updated_at) VALUES (1, 'core', {}) \
         ON CONFLICT (resource) DO UPDATE SET credential = NULL, rate_limit = excluded.rate_limit, \
         rate_remaining = excluded.rate_remaining, rate_reset_raw = excluded.rate_reset_raw, \
         rate_reset = excluded.rate_reset, updated_at = excluded.updated_at \
         WHERE rate_limits.rate_reset_raw IS NULL \
            OR excluded.rate_reset_raw > rate_limits.rate_reset_raw",
        values.join(", ")
    );
    sql
}

/// Notes that the import of `source` finished `step` up to the key `after`.
pub fn progress_stmt(source: &str, step: &str, after: &str) -> Sql {
    let mut sql = Sql::default();
    let values = bind_all(
        &mut sql,
        vec![
            SqlValue::Text(source.to_owned()),
            SqlValue::Text(step.to_owned()),
            SqlValue::Text(after.to_owned()),
        ],
    );
    sql.sql = format!(
        "INSERT INTO import_progress (source, step, after) VALUES ({}) \
         ON CONFLICT (source, step) DO UPDATE SET after = excluded.after",
        values.join(", ")
    );
    sql
}

impl Db {
    /// How far an earlier import of `source` got: the last key done, per step.
    pub async fn import_progress(&self, source: &str) -> sqlx::Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT step, after FROM import_progress WHERE source = $1"
        )
        .bind(source)
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().collect())
    }

    /// The record of `table` (developers or repositories) an imported id was merged into.
    pub async fn merged_into(&self, alias: Uuid, table: &str) -> sqlx::Result<Option<Uuid>> {
        with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT id FROM record_aliases WHERE alias_id = $1 AND kind = $2"
        )
        .bind(alias)
        .bind(table)
        .fetch_optional(pool)
        .await)
    }

    /// Forgets the progress of a finished import: the next one reads everything again.
    pub async fn forget_import_progress(&self, source: &str) -> sqlx::Result<()> {
        with_pool!(self, |pool| sqlx::query(
            "DELETE FROM import_progress WHERE source = $1"
        )
        .bind(source)
        .execute(pool)
        .await
        .map(|_| ()))
    }
}
