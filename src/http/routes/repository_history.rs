//! A repository's histories (ours): `/github/repositories/{id}/sizes/`, the sizes it has had
//! (a row each time a sync saw its size change), and `/github/repositories/{id}/star_history/`,
//! GitHub's stars by week. Both are pages of ten, newest first.

use std::future::Future;

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, NaiveTime};
use uuid::Uuid;

use crate::db::repositories::REPOSITORIES;
use crate::db::sizes::{SIZES, SizeRecord};
use crate::db::star_history::{STAR_WEEKS, StarHistoryWeek};
use crate::error::ApiError;
use crate::http::charts::{self, Series};
use crate::http::pagination::{PAGE_SIZE, Page, PageNumber};
use crate::http::path_id::PathId;
use crate::http::request::ApiRequest;
use crate::http::routes::ErrorDetail;
use crate::state::AppState;

/// GitHub pages a star history to 100 pages of 30 weeks.
const HISTORY_WEEKS: i64 = 3_000;

/// The repository's sizes in kilobytes, newest first: the first size a sync saw, then one
/// row each time it changed.
#[utoipa::path(get, path = "/github/repositories/{id}/sizes/", tag = "repositories", operation_id = "repositories_sizes",
    params(
        ("id" = Uuid, Path, description = "The repository's id"),
        ("page" = Option<String>, Query, description = "Page number from 1 (ten records a page), or `last`"),
    ),
    responses(
        (status = 200, description = "A page of sizes", body = Page<SizeRecord>),
        (status = 404, description = "No such repository, or no such page", body = ErrorDetail),
    ))]
pub async fn sizes(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
    request: ApiRequest,
) -> Result<Json<Page<SizeRecord>>, ApiError> {
    let db = &state.db;
    page_of(&state, &request, id, SIZES, |offset| {
        db.sizes(id, PAGE_SIZE, offset)
    })
    .await
}

/// GitHub's star history of the repository, newest week first: the stars given each week
/// that still stand, and the total standing at the week's end. Read with each full sync and
/// refresh of a repository with at least `star_history_stars` stars; empty for the others.
#[utoipa::path(get, path = "/github/repositories/{id}/star_history/", tag = "repositories", operation_id = "repositories_star_history",
    params(
        ("id" = Uuid, Path, description = "The repository's id"),
        ("page" = Option<String>, Query, description = "Page number from 1 (ten records a page), or `last`"),
    ),
    responses(
        (status = 200, description = "A page of weeks", body = Page<StarHistoryWeek>),
        (status = 404, description = "No such repository, or no such page", body = ErrorDetail),
    ))]
pub async fn star_history(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
    request: ApiRequest,
) -> Result<Json<Page<StarHistoryWeek>>, ApiError> {
    let db = &state.db;
    page_of(&state, &request, id, STAR_WEEKS, |offset| {
        db.star_weeks(id, PAGE_SIZE, offset)
    })
    .await
}

/// The star history as a chart of the stars standing at each week's end, for the
/// repository's HTML page (an SVG image, no script).
#[utoipa::path(get, path = "/github/repositories/{id}/star_history.svg", tag = "repositories", operation_id = "repositories_star_history_chart",
    params(("id" = Uuid, Path, description = "The repository's id")),
    responses(
        (status = 200, description = "The chart", content_type = "image/svg+xml", body = String),
        (status = 404, description = "No such repository", body = ErrorDetail),
    ))]
pub async fn star_history_chart(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
) -> Result<Response, ApiError> {
    if !state.db.exists(&REPOSITORIES, id).await? {
        return Err(ApiError::NotFound);
    }
    let weeks = state.db.star_weeks(id, HISTORY_WEEKS, 0).await?;
    let points = weeks
        .iter()
        .filter_map(|week| {
            let day = NaiveDate::parse_from_str(&week.week, "%Y-%m-%d").ok()?;
            Some((
                day.and_time(NaiveTime::MIN).and_utc().timestamp(),
                week.total as f64,
            ))
        })
        .collect();
    let series = [Series {
        label: "stars",
        colour: "#2f81f7",
        points,
    }];
    let svg = charts::lines_document("Stars over time", &series);
    Ok(([(CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// The page `?page=` asks of the repository `id`'s history in `table`, read by `rows` from
/// an offset; 404 when there is no such repository or page.
async fn page_of<T, Rows>(
    state: &AppState,
    request: &ApiRequest,
    id: Uuid,
    table: &'static str,
    rows: impl FnOnce(i64) -> Rows,
) -> Result<Json<Page<T>>, ApiError>
where
    Rows: Future<Output = sqlx::Result<Vec<T>>>,
{
    let number = PageNumber::requested(request.params.get("page"))?;
    if !state.db.exists(&REPOSITORIES, id).await? {
        return Err(ApiError::NotFound);
    }
    let count = state.db.kept_of_repository(table, id).await?;
    let page = PageNumber::check(number, count)?;
    let rows = rows(page.offset()).await?;
    Ok(Json(page.wrap(request, count, rows)))
}
