//! Keyset pages (`?cursor=`): the rows after a known one in an order of one field and the
//! id, found from the field's index however deep the page is. The order puts the field's
//! nulls after its values when descending and before them when ascending (each direction the
//! exact reverse of the other), so a page may run from the values into the nulls: each part
//! is one range of the index, asked in turn until the page is full.

use sqlx::{FromRow, SqliteConnection};
use uuid::Uuid;

use super::listing::{AnyRow, Beside, Listing};
use super::probe::Probing;
use super::sql::{Sql, SqlValue, bind_values};
use super::{Db, Pool};

/// The SQL type a field's values have, to read the text a cursor keeps back into them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Int,
    Text,
    Time,
}

/// Where a keyset page starts, in the order of `field` (then the id).
#[derive(Clone, Debug)]
pub struct Keyset {
    pub field: &'static str,
    pub key_type: KeyType,
    pub descending: bool,
    /// The record the page comes after: its field's value, as the database writes it as text
    /// (`None` for a null), and its id. `None`: the page is the order's first.
    pub after: Option<(Option<String>, Uuid)>,
}

/// A keyset page's row's field, as text, and id: where the next page starts.
#[derive(FromRow)]
pub struct Key {
    pub cursor_key: Option<String>,
    pub id: Uuid,
}

pub type Keyed<T> = Beside<Key, T>;

impl Keyset {
    fn order(&self) -> String {
        match self.descending {
            true => format!("{} DESC NULLS LAST, id", self.field),
            false => format!("{} ASC NULLS FIRST, id DESC", self.field),
        }
    }

    /// The parts of the order after `after`, in turn, each `filter` narrowed to it: the rest
    /// of the run of ties `after` is in (its value, ids past its id), then the values that
    /// follow it, then the nulls or values the order puts last. Each is one range of the
    /// index: a run of ties filtered instead (the value's rows, keeping the ids past) is read
    /// from its start, which the middle of a run of half a million equal counts made 600 ms.
    fn parts(&self, filter: &Sql, cast: &str) -> Vec<Sql> {
        let field = self.field;
        let (later, past) = if self.descending {
            ("<", ">")
        } else {
            (">", "<")
        };
        let narrowed = |condition: &dyn Fn(&mut Sql) -> String| {
            let mut sql = filter.clone();
            let condition = condition(&mut sql);
            let joiner = if filter.sql.is_empty() {
                "WHERE"
            } else {
                "AND"
            };
            sql.push(&format!(" {joiner} ({condition})"));
            sql
        };
        let Some((value, id)) = &self.after else {
            return vec![filter.clone()];
        };
        let id_past = |sql: &mut Sql| format!("id {past} {}", sql.bind(SqlValue::Id(*id)));
        let Some(value) = value else {
            let rest = narrowed(&|sql: &mut Sql| format!("{field} IS NULL AND {}", id_past(sql)));
            return match self.descending {
                true => vec![rest],
                false => vec![rest, narrowed(&|_| format!("{field} IS NOT NULL"))],
            };
        };
        let value_of = |sql: &mut Sql| {
            let value = sql.bind(SqlValue::Text(value.clone()));
            format!("CAST({value} AS {cast})")
        };
        let mut parts = vec![
            narrowed(&|sql: &mut Sql| format!("{field} = {} AND {}", value_of(sql), id_past(sql))),
            narrowed(&|sql: &mut Sql| format!("{field} {later} {}", value_of(sql))),
        ];
        if self.descending {
            parts.push(narrowed(&|_| format!("{field} IS NULL")));
        }
        parts
    }
}

impl Db {
    /// Up to `limit` rows under `filter` after `keyset.after`, in the keyset's order; probed
    /// first where `probing` says it pays (`Db::probed`), the same rows either way.
    pub async fn keyset_page<T: AnyRow>(
        &self,
        listing: &Listing,
        (filter, probing): (&Sql, Option<Probing<'_>>),
        keyset: &Keyset,
        limit: i64,
    ) -> sqlx::Result<Vec<Keyed<T>>> {
        let cast = match (self.pool(), keyset.key_type) {
            (Pool::Sqlite(_), KeyType::Int) => "INTEGER",
            (Pool::Sqlite(_), KeyType::Text | KeyType::Time) => "TEXT",
            (Pool::Postgres(_), KeyType::Int) => "BIGINT",
            (Pool::Postgres(_), KeyType::Text) => "TEXT",
            (Pool::Postgres(_), KeyType::Time) => "TIMESTAMPTZ",
        };
        let page = Page {
            listing,
            keyset,
            cast,
            limit,
        };
        if let Some(probing) = probing {
            let probed = self.probed(probing, async |connection| {
                let mut runner = Runner::Connection(connection);
                page.rows(probing.filter, &mut runner).await
            });
            if let Some(rows) = probed.await? {
                return Ok(rows);
            }
        }
        page.rows(filter, &mut Runner::Pool(self)).await
    }
}

/// Where a page's statements run: the pool, or the one connection probing holds.
enum Runner<'c> {
    Pool(&'c Db),
    Connection(&'c mut SqliteConnection),
}

impl Runner<'_> {
    async fn fetch<T: AnyRow>(&mut self, sql: &str, values: &[SqlValue]) -> sqlx::Result<Vec<T>> {
        match self {
            Self::Pool(db) => with_pool!(db, |pool| bind_values!(sqlx::query_as(sql), values)
                .fetch_all(pool)
                .await),
            Self::Connection(connection) => {
                bind_values!(sqlx::query_as(sql), values)
                    .fetch_all(&mut **connection)
                    .await
            }
        }
    }
}

/// A keyset page to read, part by part.
struct Page<'a> {
    listing: &'a Listing,
    keyset: &'a Keyset,
    /// The SQL type of the field's values.
    cast: &'static str,
    limit: i64,
}

impl Page<'_> {
    /// The page's rows under `filter`, each part's statement run by `runner` in turn until
    /// `limit` rows came.
    async fn rows<T: AnyRow>(&self, filter: &Sql, runner: &mut Runner<'_>) -> sqlx::Result<Vec<T>> {
        let (keyset, listing) = (self.keyset, self.listing);
        let mut rows: Vec<T> = Vec::new();
        for part in keyset.parts(filter, self.cast) {
            let wanted = self.limit - rows.len() as i64;
            if wanted <= 0 {
                break;
            }
            let text = format!(
                "SELECT CAST({field} AS TEXT) AS cursor_key, {columns} FROM {table}{filter} \
                 ORDER BY {order} LIMIT {wanted}",
                field = keyset.field,
                columns = listing.column_list(""),
                table = listing.table,
                filter = part.sql,
                order = keyset.order(),
            );
            rows.extend(runner.fetch(&text, &part.values).await?);
        }
        Ok(rows)
    }
}
