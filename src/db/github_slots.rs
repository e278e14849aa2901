//! The places of a credential's requests in flight to GitHub, shared by every process on the
//! database: a request holds a place until it gives it back, or until its lease runs out.
//! And the pause GitHub asked of a credential, which every process waits out.

use super::sql::{Sql, SqlValue};
use super::{Db, Pool, Timestamp};

/// A free place of the first `places` (or one whose holder's lease ran out), taken in one
/// statement unless the credential is paused; the outer conditions are checked again on the
/// row it locks, so two takers cannot both win it.
const CLAIM: &str = "UPDATE github_slots SET holder = $1, until = $2 \
     WHERE credential = $3 AND (holder IS NULL OR until < $4) AND slot = ( \
         SELECT slot FROM github_slots WHERE credential = $3 AND slot < $5 \
         AND (holder IS NULL OR until < $4) ORDER BY slot LIMIT 1 {lock}) \
     AND NOT EXISTS (SELECT 1 FROM github_pauses p \
         WHERE p.credential = $3 AND p.paused_until > $4) \
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

    /// Whether one of the first `places` places of `credential` is free (a read, cheaper than
    /// trying to take one while all are held).
    pub async fn github_slot_free(&self, credential: &str, places: i64) -> sqlx::Result<bool> {
        let free: i64 = with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM github_slots WHERE credential = $1 AND slot < $2 \
             AND (holder IS NULL OR until < $3)"
        )
        .bind(credential)
        .bind(places)
        .bind(Timestamp::now())
        .fetch_one(pool)
        .await?);
        Ok(free > 0)
    }

    /// Until when `credential`'s requests are paused, if they are.
    pub async fn github_paused_until(&self, credential: &str) -> sqlx::Result<Option<Timestamp>> {
        with_pool!(self, |pool| sqlx::query_scalar(
            "SELECT paused_until FROM github_pauses WHERE credential = $1 AND paused_until > $2"
        )
        .bind(credential)
        .bind(Timestamp::now())
        .fetch_optional(pool)
        .await)
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

/// Pauses `credential`'s requests until `until` (a later pause already kept stands).
pub fn pause_stmt(credential: &str, until: Timestamp) -> Sql {
    let mut sql = Sql::default();
    let (credential, until) = (
        sql.bind(SqlValue::Text(credential.to_owned())),
        sql.bind(SqlValue::Time(until)),
    );
    sql.sql = format!(
        "INSERT INTO github_pauses (credential, paused_until) VALUES ({credential}, {until}) \
         ON CONFLICT (credential) DO UPDATE SET paused_until = excluded.paused_until \
         WHERE excluded.paused_until > github_pauses.paused_until"
    );
    sql
}
