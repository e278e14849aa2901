//! What was fetched from GitHub, by URL: its validators for conditional requests and, for
//! list pages, the next page and the ids the page held (what a 304 stands for).

use super::sql::{Sql, SqlValue};
use super::{Db, Timestamp};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cached {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_url: Option<String>,
    pub item_ids: Vec<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    etag: Option<String>,
    last_modified: Option<String>,
    next_url: Option<String>,
    item_ids: Option<String>,
}

impl Db {
    pub async fn cached(&self, url: &str) -> sqlx::Result<Option<Cached>> {
        let row: Option<Row> = with_pool!(self, |pool| sqlx::query_as(
            "SELECT etag, last_modified, next_url, item_ids FROM http_cache WHERE url = $1"
        )
        .bind(url)
        .fetch_optional(pool)
        .await?);
        Ok(row.map(|row| Cached {
            etag: row.etag,
            last_modified: row.last_modified,
            next_url: row.next_url,
            item_ids: row
                .item_ids
                .and_then(|ids| serde_json::from_str(&ids).ok())
                .unwrap_or_default(),
        }))
    }
}

/// Stores what `url` answered, replacing what was known of it.
pub fn remember_stmt(url: &str, cached: &Cached, now: Timestamp) -> Sql {
    let mut sql = Sql::default();
    let item_ids = serde_json::to_string(&cached.item_ids).unwrap_or_else(|_| "[]".to_owned());
    let values = [
        sql.bind(SqlValue::Text(url.to_owned())),
        sql.bind(SqlValue::text(cached.etag.as_deref())),
        sql.bind(SqlValue::text(cached.last_modified.as_deref())),
        sql.bind(SqlValue::text(cached.next_url.as_deref())),
        sql.bind(SqlValue::Text(item_ids)),
        sql.bind(SqlValue::Time(now)),
    ];
    sql.sql = format!(
        "INSERT INTO http_cache (url, etag, last_modified, next_url, item_ids, updated_at) VALUES ({}) \
         ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, \
         next_url = excluded.next_url, item_ids = excluded.item_ids, updated_at = excluded.updated_at",
        values.join(", ")
    );
    sql
}

/// Drops what is known of `url`, so that the next GET of it is unconditional.
pub fn forget_stmt(url: &str) -> Sql {
    let mut sql = Sql::default();
    let url = sql.bind(SqlValue::Text(url.to_owned()));
    sql.sql = format!("DELETE FROM http_cache WHERE url = {url}");
    sql
}
