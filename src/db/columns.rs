//! Groups of columns declared once: a struct whose field names are its column names, so that
//! the SQL that reads and writes a group, and the JSON that shows it, follow its definition.

use super::Timestamp;
use super::sql::{Sql, SqlValue};

/// A group of columns stored (and shown) together, in the order of the struct's fields.
pub trait Fields {
    const COLUMNS: &'static [&'static str];

    /// The values of `COLUMNS`, in the same order, ready to bind.
    fn values(&self) -> Vec<SqlValue>;
}

/// A field's value as a bound SQL value (a typed NULL for `None`).
pub trait ToSql {
    fn to_sql(&self) -> SqlValue;
}

impl ToSql for Option<String> {
    fn to_sql(&self) -> SqlValue {
        SqlValue::text(self.as_deref())
    }
}

impl ToSql for String {
    fn to_sql(&self) -> SqlValue {
        SqlValue::Text(self.clone())
    }
}

impl ToSql for Option<i64> {
    fn to_sql(&self) -> SqlValue {
        SqlValue::int(*self)
    }
}

impl ToSql for Option<bool> {
    fn to_sql(&self) -> SqlValue {
        SqlValue::bool(*self)
    }
}

impl ToSql for Option<Timestamp> {
    fn to_sql(&self) -> SqlValue {
        SqlValue::time(*self)
    }
}

/// Declares a struct of columns and implements `Fields` for it from its own field list.
#[macro_export]
macro_rules! columns {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl $crate::db::columns::Fields for $name {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn values(&self) -> Vec<$crate::db::sql::SqlValue> {
                vec![$($crate::db::columns::ToSql::to_sql(&self.$field)),*]
            }
        }
    };
}

/// `a = excluded.a, b = excluded.b, …`: an upsert that takes what was offered for `columns`.
pub fn take_offered(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|column| format!("{column} = excluded.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT INTO table (columns) VALUES (…), (…)`, one row per item, each row's cells written
/// by `row` (binding values into the statement); the caller appends the conflict clause.
pub fn insert_rows<T>(
    table: &str,
    columns: &[&str],
    items: &[T],
    mut row: impl FnMut(&mut Sql, &T) -> Vec<String>,
) -> Sql {
    let mut sql = Sql::new(format!(
        "INSERT INTO {table} ({}) VALUES ",
        columns.join(", ")
    ));
    for (i, item) in items.iter().enumerate() {
        let cells = row(&mut sql, item);
        debug_assert_eq!(cells.len(), columns.len(), "one cell per column");
        sql.push(if i == 0 { "(" } else { ", (" })
            .push(&cells.join(", "))
            .push(")");
    }
    sql
}

/// The items whose `key` was not met before (one statement may not upsert a row twice), in
/// the order of their keys: statements running at once then lock their rows in one order.
pub fn unique_by<T>(items: &[T], key: impl Fn(&T) -> i64) -> Vec<&T> {
    let mut seen = std::collections::HashSet::new();
    let mut unique: Vec<&T> = items.iter().filter(|item| seen.insert(key(item))).collect();
    unique.sort_by_key(|item| key(item));
    unique
}

/// Binds each value, returning their placeholders in order.
pub fn bind_all(sql: &mut Sql, values: Vec<SqlValue>) -> Vec<String> {
    values.into_iter().map(|value| sql.bind(value)).collect()
}

/// `($1, $2), ($3, $4), …`: rows of two values for a `(VALUES …)` list, bound into `sql`.
pub fn value_pairs<A: Into<SqlValue>, B: Into<SqlValue>>(
    sql: &mut Sql,
    pairs: impl IntoIterator<Item = (A, B)>,
) -> String {
    pairs
        .into_iter()
        .map(|(a, b)| format!("({}, {})", sql.bind(a.into()), sql.bind(b.into())))
        .collect::<Vec<_>>()
        .join(", ")
}
