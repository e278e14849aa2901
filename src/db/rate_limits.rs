//! GitHub rate limits as the API lists them: one row per resource, core being id 1.

use super::Timestamp;
use super::listing::Listing;

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
    columns: "id, resource, rate_limit, rate_remaining, rate_reset_raw, rate_reset",
    order_by: "id",
};
