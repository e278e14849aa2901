//! What the three listed resources share: filters, counting, paging, detail lookup.
//! Each resource says how its rows become JSON; this does the rest once.

use std::future::Future;
use std::sync::atomic::AtomicUsize;

use axum::Json;
use serde::Serialize;

use uuid::Uuid;

use crate::db::filter::{Cmp, Condition};
use crate::db::listing::{AnyRow, DEEP_OFFSET, Listing};
use crate::db::sql::SqlValue;
use crate::error::ApiError;
use crate::http::embed::{self, Embed};
use crate::http::filters::{self, Field};
use crate::http::pagination::{PAGE_SIZE, Page, PageNumber};
use crate::http::request::ApiRequest;
use crate::state::AppState;

pub trait Resource: Serialize + Sized + Send {
    type Row: AnyRow;
    const LISTING: &'static Listing;
    const FILTERS: &'static [Field];

    /// Renders rows in their order, loading what they link to (and embed) in a constant
    /// number of queries.
    fn render(
        state: &AppState,
        request: &ApiRequest,
        rows: Vec<Self::Row>,
        embed: Embed<'_>,
    ) -> impl Future<Output = Result<Vec<Self>, ApiError>> + Send;
}

/// A page of `R` matching the request's filters and `scope` (e.g. "followers of X").
pub async fn list<R: Resource>(
    state: &AppState,
    request: &ApiRequest,
    scope: Option<Condition>,
) -> Result<Json<Page<R>>, ApiError> {
    let mut conditions = filters::parse(R::FILTERS, &request.params)?;
    let budget = AtomicUsize::new(embed::BUDGET);
    let embed = Embed::from_params(&request.params, &budget)?;
    conditions.extend(scope);
    let filter = state.db.where_clause(&conditions);
    let requested = PageNumber::requested(request.params.get("page"))?;
    let shallow = requested.filter(|&number| PageNumber::offset_of(number) < DEEP_OFFSET);
    let (count, page, rows) = match shallow {
        // The usual case costs one statement: the page's rows carry the total.
        Some(number) => {
            let offset = PageNumber::offset_of(number);
            let counted = state
                .db
                .counted_page(R::LISTING, &filter, PAGE_SIZE, offset)
                .await?;
            // A page past the end has no rows to carry the total: it is invalid whatever
            // the total is, and page 1 of nothing is the empty page.
            let count = counted.first().map_or(0, |first| first.total);
            let page = PageNumber::check(Some(number), count)?;
            (count, page, counted.into_iter().map(|c| c.row).collect())
        }
        // The last page, or a deep one: counted first, so a page past the end is refused
        // before its rows are skipped.
        None => {
            let count = state.db.count(R::LISTING, &filter).await?;
            let page = PageNumber::check(requested, count)?;
            let rows = state
                .db
                .page(R::LISTING, &filter, PAGE_SIZE, page.offset())
                .await?;
            (count, page, rows)
        }
    };
    let results = R::render(state, request, rows, embed).await?;
    Ok(Json(page.wrap(request, count, results)))
}

/// The one `R` that `identity` names, if it also matches the request's filters.
pub async fn detail<R: Resource>(
    state: &AppState,
    request: &ApiRequest,
    identity: Condition,
) -> Result<Json<R>, ApiError> {
    let mut conditions = filters::parse(R::FILTERS, &request.params)?;
    let budget = AtomicUsize::new(embed::BUDGET);
    let embed = Embed::from_params(&request.params, &budget)?;
    conditions.push(identity);
    let filter = state.db.where_clause(&conditions);
    let rows = state.db.page(R::LISTING, &filter, 1, 0).await?;
    let rendered = R::render(state, request, rows, embed).await?;
    rendered
        .into_iter()
        .next()
        .map(Json)
        .ok_or(ApiError::NotFound)
}

/// A page of `R` hanging off the `Parent` record `id` (its followers, its stargazers…),
/// picked by `scope`; 404 when there is no such record.
pub async fn list_under<Parent: Resource, R: Resource>(
    state: &AppState,
    request: &ApiRequest,
    id: Uuid,
    scope: Condition,
) -> Result<Json<Page<R>>, ApiError> {
    if !state.db.exists(Parent::LISTING, id).await? {
        return Err(ApiError::NotFound);
    }
    list(state, request, Some(scope)).await
}

/// The condition that picks the record with this UUID.
pub fn id_is(id: Uuid) -> Condition {
    Condition::Compare {
        column: "id",
        cmp: Cmp::Eq,
        value: SqlValue::Id(id),
    }
}
