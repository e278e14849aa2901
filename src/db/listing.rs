//! Counting and paging any listed table under a WHERE clause: one implementation for
//! developers, repositories and rate limits.

use sqlx::FromRow;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use super::Db;
use super::sql::{Sql, bind_values};

/// What the list routes need to know of a table.
pub struct Listing {
    pub table: &'static str,
    pub columns: &'static str,
    pub order_by: &'static str,
}

impl Db {
    pub async fn count(&self, listing: &Listing, filter: &Sql) -> sqlx::Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {}{}", listing.table, filter.sql);
        with_pool!(self, |pool| bind_values!(
            sqlx::query_scalar(&sql),
            &filter.values
        )
        .fetch_one(pool)
        .await)
    }

    /// Whether a row with this id exists, whatever any filter says.
    pub async fn exists(&self, listing: &Listing, id: Uuid) -> sqlx::Result<bool> {
        let sql = format!("SELECT COUNT(*) FROM {} WHERE id = $1", listing.table);
        let found: i64 = with_pool!(self, |pool| sqlx::query_scalar(&sql)
            .bind(id)
            .fetch_one(pool)
            .await?);
        Ok(found > 0)
    }

    /// Rows `offset..offset + limit` in the listing's order.
    pub async fn page<T>(
        &self,
        listing: &Listing,
        filter: &Sql,
        limit: i64,
        offset: i64,
    ) -> sqlx::Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        let sql = format!(
            "SELECT {} FROM {}{} ORDER BY {} LIMIT {} OFFSET {}",
            listing.columns,
            listing.table,
            filter.sql,
            listing.order_by,
            filter.next_placeholder(0),
            filter.next_placeholder(1),
        );
        with_pool!(self, |pool| bind_values!(
            sqlx::query_as(&sql),
            &filter.values
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await)
    }
}

/// `IN ($1, …, $n)` for `n` values (at least one).
pub fn in_list(n: usize) -> String {
    let placeholders: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!("IN ({})", placeholders.join(", "))
}
