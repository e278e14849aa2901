//! The graph read for export: each table streamed row by row inside one read-only
//! transaction (so the tables agree with each other), with a developer's neighbourhood
//! gathered first into a temporary table when one is asked for.

use futures_util::TryStreamExt;
use sqlx::Row;
use uuid::Uuid;

use super::encode::{Cell, Edge};
use super::{ExportError, Output, Selection, Table, Type};
use crate::db::{Db, Pool, Timestamp};
use crate::with_pool;

/// PostgreSQL: one snapshot for the whole export. SQLite's read transaction has one anyway.
const SNAPSHOT: &str = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ";

const NEIGHBOURHOOD_SQLITE: &str =
    "CREATE TEMP TABLE export_nodes (id BLOB PRIMARY KEY NOT NULL, depth INTEGER NOT NULL)";
const NEIGHBOURHOOD_POSTGRES: &str = "CREATE TEMP TABLE export_nodes \
     (id uuid PRIMARY KEY, depth integer NOT NULL) ON COMMIT DROP";

const START: &str = "INSERT INTO export_nodes (id, depth) \
     SELECT id, 0 FROM developers WHERE lower(login) = lower($1) \
     ORDER BY synced_at DESC NULLS LAST LIMIT 1";

/// The nodes one edge away from those found at depth `$1 - 1`, in either direction.
const NEXT_RING: &str = "INSERT INTO export_nodes (id, depth) SELECT DISTINCT n, $1 FROM ( \
       SELECT f.followee_id AS n FROM follows f JOIN export_nodes e ON e.id = f.follower_id WHERE e.depth = $1 - 1 \
       UNION ALL SELECT f.follower_id FROM follows f JOIN export_nodes e ON e.id = f.followee_id WHERE e.depth = $1 - 1 \
       UNION ALL SELECT s.repository_id FROM stars s JOIN export_nodes e ON e.id = s.developer_id WHERE e.depth = $1 - 1 \
       UNION ALL SELECT s.developer_id FROM stars s JOIN export_nodes e ON e.id = s.repository_id WHERE e.depth = $1 - 1 \
       UNION ALL SELECT r.id FROM repositories r JOIN export_nodes e ON e.id = r.owner_id WHERE e.depth = $1 - 1 \
       UNION ALL SELECT r.owner_id FROM repositories r JOIN export_nodes e ON e.id = r.id \
           WHERE e.depth = $1 - 1 AND r.owner_id IS NOT NULL \
     ) ring WHERE TRUE ON CONFLICT (id) DO NOTHING";

/// The condition a node (a row of `alias`) meets to be exported.
fn kept(alias: &str, selection: &Selection) -> Vec<String> {
    let mut conditions = Vec::new();
    if selection.complete_only {
        conditions.push(format!("{alias}.synced_at IS NOT NULL"));
    }
    if selection.around.is_some() {
        conditions.push(format!("{alias}.id IN (SELECT id FROM export_nodes)"));
    }
    conditions
}

fn where_all(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// The SELECT that streams `table`; edges are kept when both their ends are.
fn select(table: Table, selection: &Selection) -> String {
    if let Some(fields) = table.fields() {
        let columns: Vec<&str> = fields.iter().map(|f| f.name).collect();
        return format!(
            "SELECT {} FROM {} t{}",
            columns.join(", "),
            table.name(),
            where_all(&kept("t", selection))
        );
    }
    // What an edge table reads, from where, and the tables and columns of its two ends.
    let (columns, from, source_table, source_column, target_table, target_column) = match table {
        Table::Follows => (
            "e.follower_id, e.followee_id",
            "follows e",
            "developers",
            "follower_id",
            "developers",
            "followee_id",
        ),
        Table::Owns => (
            "e.owner_id, e.id",
            "repositories e",
            "developers",
            "owner_id",
            "repositories",
            "id",
        ),
        _ => (
            "e.developer_id, e.repository_id, e.starred_at",
            "stars e",
            "developers",
            "developer_id",
            "repositories",
            "repository_id",
        ),
    };
    let mut conditions = Vec::new();
    if table == Table::Owns {
        conditions.push("e.owner_id IS NOT NULL".to_owned());
    }
    let mut joins = String::new();
    if selection.complete_only {
        joins = format!(
            " JOIN {source_table} a ON a.id = e.{source_column} \
             JOIN {target_table} b ON b.id = e.{target_column}"
        );
        conditions.extend(kept("a", selection));
        conditions.extend(kept("b", selection));
    } else if selection.around.is_some() {
        conditions.push(format!(
            "e.{source_column} IN (SELECT id FROM export_nodes) \
             AND e.{target_column} IN (SELECT id FROM export_nodes)"
        ));
    }
    format!(
        "SELECT {columns} FROM {from}{joins}{}",
        where_all(&conditions)
    )
}

impl Db {
    /// Streams `tables` of the part of the graph `selection` names into `output`.
    pub async fn export_graph(
        &self,
        tables: &[Table],
        selection: &Selection,
        output: &mut Output,
    ) -> Result<(), ExportError> {
        let (neighbourhood, snapshot) = match self.pool() {
            Pool::Sqlite(_) => (NEIGHBOURHOOD_SQLITE, None),
            Pool::Postgres(_) => (NEIGHBOURHOOD_POSTGRES, Some(SNAPSHOT)),
        };
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            if let Some(snapshot) = snapshot {
                sqlx::query(snapshot).execute(&mut *tx).await?;
            }
            if let Some(around) = &selection.around {
                sqlx::query(neighbourhood).execute(&mut *tx).await?;
                let found = sqlx::query(START)
                    .bind(&around.login)
                    .execute(&mut *tx)
                    .await?;
                if found.rows_affected() == 0 {
                    return Err(ExportError::UnknownDeveloper(around.login.clone()));
                }
                for depth in 1..=around.depth {
                    sqlx::query(NEXT_RING)
                        .bind(i64::from(depth))
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for &table in tables {
                output.start_table(table).await?;
                let sql = select(table, selection);
                let mut rows = sqlx::query(&sql).fetch(&mut *tx);
                while let Some(row) = rows.try_next().await? {
                    match table.fields() {
                        Some(fields) => {
                            let mut cells = Vec::with_capacity(fields.len());
                            for (i, field) in fields.iter().enumerate() {
                                cells.push(match field.kind {
                                    Type::Id => Cell::Id(row.try_get::<Uuid, _>(i)?),
                                    Type::Text => Cell::Text(row.try_get(i)?),
                                    Type::Int => Cell::Int(row.try_get(i)?),
                                    Type::Bool => Cell::Bool(row.try_get(i)?),
                                    Type::Time => Cell::Time(row.try_get(i)?),
                                });
                            }
                            output.encoder().node(table, &cells);
                        }
                        None => {
                            let edge = Edge {
                                source: row.try_get(0)?,
                                target: row.try_get(1)?,
                                starred_at: if table == Table::Starred {
                                    row.try_get::<Option<Timestamp>, _>(2)?
                                } else {
                                    None
                                },
                            };
                            output.encoder().edge(table, edge);
                        }
                    }
                    output.pass_on().await?;
                }
            }
            // Read only: nothing to keep, and the temporary table goes with it.
            tx.rollback().await?;
            Ok(())
        })
    }
}
