//! The places of a credential's requests in flight to GitHub, shared by every process on the
//! database: a request holds a place until it gives it back, or until its lease runs out.

use super::sql::{Sql, SqlValue};
use super::{Db, Pool, Timestamp};

/// A free place of the first `places` (or one whose holder's lease ran out), taken in one
/// statement; the outer conditions are checked again on the row it locks, so two takers
/// cannot both win it.
const CLAIM: &str = "UPDATE github_slots SET holder = $1, until = $2 \
     WHERE credential = $3 AND (holder IS NULL OR until < $4) AND slot = ( \
         SELECT slot FROM github_slots WHERE credential = $3 AND slot < $5 \
         AND (holder IS NULL OR until < $4) ORDER BY slot LIMIT 1 {lock}) \
     RETURNING slot";

impl Db {
    /// Makes sure `credential` has places `0..places`.
    pub async fn add_github_slots(&self, credential: &str, places: i64) -> sqlx::Result<()> {
        let mut sql = Sql::new("INSERT INTO github_slots (credential, slot) VALUES ");
        for slot in 0..places.max(1) {
            let (credential, slot) = (
                sql.bind(SqlValue::Text(credential.to_owned())),
                sql.bind(SqlValue::Int(slot)),
            );
            let separator = if sql.values.len() > 2 { ", " } else { "" };
            sql.push(&format!("{separator}({credential}, {slot})"));
        }
        sql.push(" ON CONFLICT (credential, slot) DO NOTHING");
        self.run_in_transaction(&[sql]).await
    }

    /// Takes one of the first `places` places of `credential` for `holder` until `until`;
    /// `None` when all are held.
    pub async fn claim_github_slot(
        &self,
        credential: &str,
        places: i64,
        holder: &str,
        until: Timestamp,
    ) -> sqlx::Result<Option<i64>> {
        let lock = match self.pool() {
            Pool::Postgres(_) => "FOR UPDATE SKIP LOCKED",
            // One writer at a time: the statement is atomic as it stands.
            Pool::Sqlite(_) => "",
        };
        let sql = CLAIM.replace("{lock}", lock);
        with_pool!(self, |pool| sqlx::query_scalar(&sql)
            .bind(holder)
            .bind(until)
            .bind(credential)
            .bind(Timestamp::now())
            .bind(places)
            .fetch_optional(pool)
            .await)
    }
}

/// Gives back `holder`'s place; a place another has taken since (the lease ran out) stays
/// theirs.
pub fn release_stmt(credential: &str, slot: i64, holder: &str) -> Sql {
    let mut sql = Sql::default();
    let (credential, slot, holder) = (
        sql.bind(SqlValue::Text(credential.to_owned())),
        sql.bind(SqlValue::Int(slot)),
        sql.bind(SqlValue::Text(holder.to_owned())),
    );
    sql.sql = format!(
        "UPDATE github_slots SET holder = NULL, until = NULL \
         WHERE credential = {credential} AND slot = {slot} AND holder = {holder}"
    );
    sql
}
