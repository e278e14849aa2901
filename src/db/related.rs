//! The first few related records of many subjects at once (for `?embed=`): one query per
//! relation, whatever the number of subjects, ranked in each target's list order.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row};
use uuid::Uuid;

use super::Db;
use super::listing::{AnyRow, Listing, in_list};

/// The `Relation` through the edge table `edge`: its column `to` names a row of `table`
/// (the listing `target`'s), its column `subject` the subject.
macro_rules! through {
    ($edge:literal . $to:literal => $table:literal, $subject:literal, $target:expr) => {
        $crate::db::related::Relation {
            from: concat!(
                $edge, " JOIN ", $table, " ON ", $table, ".id = ", $edge, ".", $to
            ),
            subject: concat!($edge, ".", $subject),
            target: $target,
        }
    };
}
pub(crate) use through;

/// How records of `target` hang off a subject: `from` joins the edge to the target table,
/// `subject` is the expression holding the subject's id.
pub struct Relation {
    pub from: &'static str,
    pub subject: &'static str,
    pub target: &'static Listing,
}

/// One related record, with its subject and how many records that subject has in all.
pub struct Ranked<R> {
    pub subject: Uuid,
    pub total: i64,
    pub row: R,
}

macro_rules! ranked_from_row {
    ($row:ty) => {
        impl<'r, R: FromRow<'r, $row>> FromRow<'r, $row> for Ranked<R> {
            fn from_row(row: &'r $row) -> sqlx::Result<Self> {
                Ok(Self {
                    subject: row.try_get("subject")?,
                    total: row.try_get("total")?,
                    row: R::from_row(row)?,
                })
            }
        }
    };
}
ranked_from_row!(SqliteRow);
ranked_from_row!(PgRow);

impl Listing {
    /// The order, each term prefixed with the table, for queries that join other tables.
    fn qualified_order(&self) -> String {
        self.order_by
            .split(',')
            .map(|term| format!("{}.{}", self.table, term.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Db {
    /// Up to `limit` records of `relation` for each subject, in the target's list order.
    pub async fn first_related<R>(
        &self,
        relation: &Relation,
        subjects: &[Uuid],
        limit: i64,
    ) -> sqlx::Result<Vec<Ranked<R>>>
    where
        R: AnyRow,
    {
        if subjects.is_empty() {
            return Ok(Vec::new());
        }
        let target = relation.target;
        let subject = relation.subject;
        let sql = format!(
            "SELECT * FROM (SELECT {subject} AS subject, \
                 COUNT(*) OVER (PARTITION BY {subject}) AS total, \
                 ROW_NUMBER() OVER (PARTITION BY {subject} ORDER BY {order}) AS position, \
                 {columns} \
             FROM {from} WHERE {subject} {within}) ranked \
             WHERE position <= ${limit_at} ORDER BY subject, position",
            order = target.qualified_order(),
            columns = target.column_list(&format!("{}.", target.table)),
            from = relation.from,
            within = in_list(subjects.len()),
            limit_at = subjects.len() + 1,
        );
        with_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for id in subjects {
                query = query.bind(*id);
            }
            query.bind(limit).fetch_all(pool).await
        })
    }
}
