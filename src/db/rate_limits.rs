//! GitHub rate limits as the API lists them: one row per resource, core being id 1.

use super::listing::Listing;
use super::sql::{Sql, SqlValue};
use super::{Db, Timestamp};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RateLimitRow {
    pub id: i64,
    pub resource: String,
    pub rate_limit: Option<i64>,
    pub rate_remaining: Option<i64>,
    pub rate_reset_raw: Option<i64>,
    pub rate_reset: Option<Timestamp>,
}

pub const RATE_LIMITS: Listing = Listing {
    table: "rate_limits",
    columns: &[&[
        "id",
        "resource",
        "rate_limit",
        "rate_remaining",
        "rate_reset_raw",
        "rate_reset",
    ]],
    order_by: "id",
    counted: false,
};

/// GitHub's latest word on one quota of a credential (named by an id, never the secret).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct QuotaRecord {
    pub credential: String,
    pub resource: String,
    pub limit: i64,
    pub remaining: i64,
    pub reset: i64,
}

/// Stores a quota; `core` is always row 1, the original API's contract. Reports from several
/// processes arrive out of order: one replaces the stored one only if it is of a later window,
/// of the same window with less left, or of another credential.
pub fn store_stmt(quota: &QuotaRecord, now: Timestamp) -> Sql {
    let mut sql = Sql::default();
    let reset_at = chrono::DateTime::from_timestamp(quota.reset, 0).map(Timestamp);
    let values = [
        sql.bind(SqlValue::Text(quota.credential.clone())),
        sql.bind(SqlValue::Text(quota.resource.clone())),
        sql.bind(SqlValue::Int(quota.limit)),
        sql.bind(SqlValue::Int(quota.remaining)),
        sql.bind(SqlValue::Int(quota.reset)),
        sql.bind(SqlValue::time(reset_at)),
        sql.bind(SqlValue::Time(now)),
    ];
    let (id_column, id_value) = if quota.resource == "core" {
        ("id, ", "1, ")
    } else {
        ("", "")
    };
    sql.sql = format!(
        "INSERT INTO rate_limits ({id_column}credential, resource, rate_limit, rate_remaining, \
         rate_reset_raw, rate_reset, updated_at) VALUES ({id_value}{}) \
         ON CONFLICT (resource) DO UPDATE SET credential = excluded.credential, \
         rate_limit = excluded.rate_limit, rate_remaining = excluded.rate_remaining, \
         rate_reset_raw = excluded.rate_reset_raw, rate_reset = excluded.rate_reset, \
         updated_at = excluded.updated_at \
         WHERE excluded.rate_reset_raw > rate_limits.rate_reset_raw \
            OR (excluded.rate_reset_raw = rate_limits.rate_reset_raw \
                AND excluded.rate_remaining <= rate_limits.rate_remaining) \
            OR rate_limits.rate_reset_raw IS NULL \
            OR COALESCE(rate_limits.credential, '') <> excluded.credential",
        values.join(", ")
    );
    sql
}

impl Db {
    /// The quotas last stored for `credential`.
    pub async fn stored_quotas(&self, credential: &str) -> sqlx::Result<Vec<QuotaRecord>> {
        with_pool!(self, |pool| sqlx::query_as(
            "SELECT credential, resource, rate_limit AS \"limit\", rate_remaining AS remaining, \
             rate_reset_raw AS reset FROM rate_limits \
             WHERE credential = $1 AND rate_limit IS NOT NULL AND rate_remaining IS NOT NULL \
             AND rate_reset_raw IS NOT NULL"
        )
        .bind(credential)
        .fetch_all(pool)
        .await)
    }
}
