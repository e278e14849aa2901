//! Counting and paging any listed table under a WHERE clause: one implementation for
//! developers, repositories and rate limits.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row};
use uuid::Uuid;

use super::sql::{Sql, bind_values};
use super::{Db, Pool};

/// A row type both backends can decode, as every listed table's rows are.
pub trait AnyRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> AnyRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// What the list routes need to know of a table.
pub struct Listing {
    pub table: &'static str,
    /// The row's columns, in groups (a `columns!` struct's list is one group).
    pub columns: &'static [&'static [&'static str]],
    pub order_by: &'static str,
    /// Whether `row_counts` keeps this table's total, so an unfiltered count reads one row.
    pub counted: bool,
}

/// A row with `extra` columns selected beside it (the total of a counted page, the key of a
/// keyset page).
pub struct Beside<E, T> {
    pub extra: E,
    pub row: T,
}

impl<'r, R: Row, E: FromRow<'r, R>, T: FromRow<'r, R>> FromRow<'r, R> for Beside<E, T> {
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(Self {
            extra: E::from_row(row)?,
            row: T::from_row(row)?,
        })
    }
}

/// The total the whole filter matches, beside each row of a counted page.
#[derive(FromRow)]
pub struct Total {
    pub total: i64,
}

pub type Counted<T> = Beside<Total, T>;

impl Listing {
    /// The row's columns, each prefixed with `prefix` (for queries that join other tables).
    pub fn column_list(&self, prefix: &str) -> String {
        self.columns
            .iter()
            .flat_map(|group| group.iter())
            .map(|column| format!("{prefix}{column}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// An expression for how many rows `filter` matches: the kept total when nothing filters.
    fn total(&self, filter: &Sql) -> String {
        if self.counted && filter.sql.is_empty() {
            format!("(SELECT n FROM row_counts WHERE name = '{}')", self.table)
        } else {
            format!("(SELECT COUNT(*) FROM {}{})", self.table, filter.sql)
        }
    }

    /// A page of rows under `filter` in `order` after `offset` others, each preceded by the
    /// `extra` columns. A deep page finds the rows it skips by id alone (the listing index covers the
    /// order and the id, so PostgreSQL skips them in the index without reading the table) and
    /// reads only its own rows in full; a shallow page is cheaper read directly.
    pub(super) fn page_sql(&self, filter: &Sql, order: &str, extra: &str, offset: i64) -> String {
        let (limit, skip) = (filter.next_placeholder(0), filter.next_placeholder(1));
        let (columns, table) = (self.column_list(""), self.table);
        let filter = &filter.sql;
        if offset < DEEP_OFFSET {
            format!(
                "SELECT {extra}{columns} FROM {table}{filter} ORDER BY {order} \
                 LIMIT {limit} OFFSET {skip}"
            )
        } else {
            format!(
                "SELECT {extra}{columns} FROM {table} JOIN (SELECT id FROM {table}{filter} \
                 ORDER BY {order} LIMIT {limit} OFFSET {skip}) AS page USING (id) \
                 ORDER BY {order}"
            )
        }
    }
}

/// From how many skipped rows a page finds its rows by id first: below it, the join costs
/// more than the rows it saves reading (docs/PERFORMANCE.md).
pub const DEEP_OFFSET: i64 = 1_000;

impl Db {
    pub async fn count(&self, listing: &Listing, filter: &Sql) -> sqlx::Result<i64> {
        let sql = format!("SELECT {}", listing.total(filter));
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

    /// How many rows of `table` (a history: `repository_sizes`, `star_weeks`) are kept of
    /// the repository `id`.
    pub async fn kept_of_repository(&self, table: &'static str, id: Uuid) -> sqlx::Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE repository_id = $1");
        with_pool!(self, |pool| sqlx::query_scalar(&sql)
            .bind(id)
            .fetch_one(pool)
            .await)
    }

    /// Rows `offset..offset + limit` in `order` (an ORDER BY clause of whitelisted columns:
    /// the listing's own, or what `?ordering=` asked).
    pub async fn page<T: AnyRow>(
        &self,
        listing: &Listing,
        filter: &Sql,
        order: &str,
        limit: i64,
        offset: i64,
    ) -> sqlx::Result<Vec<T>> {
        let sql = listing.page_sql(filter, order, "", offset);
        self.fetch_page(&sql, filter, (limit, offset), false).await
    }

    /// `page` and `count` in one statement: the rows, and the total when there are any.
    pub async fn counted_page<T: AnyRow>(
        &self,
        listing: &Listing,
        filter: &Sql,
        order: &str,
        limit: i64,
        offset: i64,
    ) -> sqlx::Result<Vec<Counted<T>>> {
        // The total's subquery reuses the filter's placeholders, so the values bind once.
        let total = format!("{} AS total, ", listing.total(filter));
        let sql = listing.page_sql(filter, order, &total, offset);
        self.fetch_page(&sql, filter, (limit, offset), false).await
    }

    /// The rows of `sql` (`filter`'s values, then `limit` and `offset`, bound). `serial`: on
    /// PostgreSQL with no parallel workers, for a led page, which reads a few rows of a few
    /// index ranges: starting a worker for a range the planner takes for large cost more than
    /// the query under concurrency (ten clients at once on two cores: p99 60 ms with them,
    /// 11 ms without).
    async fn fetch_page<T: AnyRow>(
        &self,
        sql: &str,
        filter: &Sql,
        (limit, offset): (i64, i64),
        serial: bool,
    ) -> sqlx::Result<Vec<T>> {
        // A macro, not a closure: each backend's query is of its own type.
        macro_rules! bound {
            () => {
                bind_values!(sqlx::query_as(sql), &filter.values)
                    .bind(limit)
                    .bind(offset)
            };
        }
        match (self.pool(), serial) {
            (Pool::Postgres(pool), true) => {
                self.count_statement();
                let mut transaction = pool.begin().await?;
                sqlx::query("SET LOCAL max_parallel_workers_per_gather = 0")
                    .execute(&mut *transaction)
                    .await?;
                let rows = bound!().fetch_all(&mut *transaction).await?;
                transaction.commit().await?;
                Ok(rows)
            }
            _ => with_pool!(self, |pool| bound!().fetch_all(pool).await),
        }
    }
}

/// The rows of a listed table that a computed field leads with, as SQL for derived tables of
/// `(id, lead)`: those whose value is positive, each with it, read from an index (the stars
/// gained since a week, from the star weeks' running totals). Every other row's value is
/// zero or unknown. Each part is one range of an index, best read in its own order, so a page
/// reads the first rows of each part rather than all of them.
pub struct Lead<'a> {
    pub parts: &'a [String],
    /// The list's order with the field read from `lead_rows.lead`, for the rows that have one.
    pub led: &'a str,
}

impl Lead<'_> {
    /// Every row the lead holds.
    fn rows(&self) -> String {
        self.parts.join(" UNION ALL ")
    }
}

impl Db {
    /// Rows `offset..offset + limit` of `listing` under `filter`, ordered by a field that
    /// `lead` leads with, descending: first the rows `lead` holds, in its order, read from
    /// its index; then the others in `order`, which only a page past them reads.
    pub async fn led_page<T: AnyRow>(
        &self,
        listing: &Listing,
        filter: &Sql,
        lead: &Lead<'_>,
        order: &str,
        limit: i64,
        offset: i64,
    ) -> sqlx::Result<Vec<T>> {
        let (columns, table) = (listing.column_list(""), listing.table);
        let joined = |rows: &str| format!("({rows}) AS lead_rows JOIN {table} USING (id)");
        // The page is among the first `offset + limit` rows of some part: each part reads
        // that many, filtered, in its index's order.
        let firsts: Vec<String> = lead
            .parts
            .iter()
            .enumerate()
            .map(|(n, part)| {
                format!(
                    "SELECT * FROM (SELECT lead_rows.id AS id, lead_rows.lead AS lead FROM {}{} \
                     ORDER BY {} LIMIT {}) AS part_{n}",
                    joined(part),
                    filter.sql,
                    lead.led,
                    offset + limit
                )
            })
            .collect();
        let (limit_at, skip_at) = (filter.next_placeholder(0), filter.next_placeholder(1));
        let sql = format!(
            "SELECT {columns} FROM {} ORDER BY {} LIMIT {limit_at} OFFSET {skip_at}",
            joined(&firsts.join(" UNION ALL ")),
            lead.led
        );
        let mut rows: Vec<T> = self.fetch_page(&sql, filter, (limit, offset), true).await?;
        let short = limit - rows.len() as i64;
        if short == 0 {
            return Ok(rows);
        }
        // How many rows the lead holds: those skipped and those read, or counted when the
        // page skipped them all.
        let held = match rows.len() {
            0 => {
                let count = format!(
                    "SELECT COUNT(*) FROM {}{}",
                    joined(&lead.rows()),
                    filter.sql
                );
                with_pool!(self, |pool| bind_values!(
                    sqlx::query_scalar(&count),
                    &filter.values
                )
                .fetch_one(pool)
                .await)?
            }
            read => offset + read as i64,
        };
        let others = format!("id NOT IN (SELECT id FROM ({}) AS lead_rows)", lead.rows());
        let rest = Sql {
            sql: match filter.sql.is_empty() {
                true => format!(" WHERE {others}"),
                false => format!("{} AND {others}", filter.sql),
            },
            values: filter.values.clone(),
        };
        let skip = (offset - held).max(0);
        rows.extend(self.page(listing, &rest, order, short, skip).await?);
        Ok(rows)
    }
}

/// `IN ($1, …, $n)` for `n` values (at least one).
pub fn in_list(n: usize) -> String {
    let placeholders: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!("IN ({})", placeholders.join(", "))
}
