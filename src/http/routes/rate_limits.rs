//! `/github/rate_limit/`: GitHub's quota as last reported, one row per resource.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::Link;
use crate::db::filter::{Cmp, Condition};
use crate::db::listing::Listing;
use crate::db::rate_limits::{RATE_LIMITS, RateLimitRow};
use crate::db::sql::SqlValue;
use crate::error::ApiError;
use crate::http::embed::Embed;
use crate::http::filters::{RATE_LIMIT_FILTERS, parse_bool};
use crate::http::pagination::Page;
use crate::http::path_id::PathId;
use crate::http::request::ApiRequest;
use crate::http::resource::{self, Collection, Resource};
use crate::state::AppState;

/// GitHub's quotas as last reported.
pub static COLLECTION: Collection = Collection {
    path: "/github/rate_limit/",
    filters: RATE_LIMIT_FILTERS,
    orderings: &[],
    search: &[],
    relations: &[],
    links: true,
    embeds: false,
};

/// One GitHub rate-limit resource; the core quota is always id 1.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimit {
    pub url: String,
    /// Requests allowed per window.
    pub rate_limit: Option<i64>,
    /// Requests left in this window.
    pub rate_remaining: Option<i64>,
    /// When the window resets, in seconds since the Unix epoch.
    pub rate_reset_raw: Option<i64>,
    /// When the window resets (UTC, ISO 8601).
    pub rate_reset: Option<String>,
    /// GitHub's name for the quota: `core`, `graphql`, `search`, …
    pub resource: String,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<RateLimitLinks>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RateLimitLinks {
    #[serde(rename = "self")]
    pub this: Link,
}

impl Resource for RateLimit {
    type Row = RateLimitRow;
    const LISTING: &'static Listing = &RATE_LIMITS;
    const COLLECTION: &'static Collection = &COLLECTION;

    async fn render(
        _state: &AppState,
        request: &ApiRequest,
        rows: Vec<RateLimitRow>,
        _embed: Embed<'_>,
    ) -> Result<Vec<Self>, ApiError> {
        let with_links = request.params.get("links").and_then(parse_bool) == Some(true);
        Ok(rows
            .into_iter()
            .map(|row| RateLimit {
                url: request.record(&COLLECTION, row.id),
                rate_limit: row.rate_limit,
                rate_remaining: row.rate_remaining,
                rate_reset_raw: row.rate_reset_raw,
                rate_reset: row.rate_reset.map(|t| t.to_iso()),
                resource: row.resource,
                links: with_links.then(|| RateLimitLinks {
                    this: Link::to(request.record(&COLLECTION, row.id)),
                }),
            })
            .collect())
    }
}

/// Every rate-limit resource GitHub has reported, core first.
#[utoipa::path(get, path = "/github/rate_limit/", tag = "rate_limit", operation_id = "rate_limit_list",
    responses((status = 200, description = "A page of rate limits", body = Page<RateLimit>)))]
pub async fn list(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Json<Page<RateLimit>>, ApiError> {
    resource::list(&state, &request, None).await
}

/// One rate-limit resource (1 is GitHub's core quota).
#[utoipa::path(get, path = "/github/rate_limit/{id}/", tag = "rate_limit", operation_id = "rate_limit_detail",
    params(("id" = i64, Path, description = "The rate limit's id; 1 is the core quota")),
    responses((status = 200, description = "The rate limit", body = RateLimit)))]
pub async fn detail(
    State(state): State<AppState>,
    PathId(id): PathId<i64>,
    request: ApiRequest,
) -> Result<Json<RateLimit>, ApiError> {
    let identity = Condition::Compare {
        column: "id",
        cmp: Cmp::Eq,
        value: SqlValue::Int(id),
    };
    resource::detail(&state, &request, identity).await
}
