//! `/github/repositories/{id}/sizes/` (ours): the sizes a repository has had, newest first,
//! a row each time a sync saw its size change.

use axum::Json;
use axum::extract::State;
use uuid::Uuid;

use crate::db::repositories::REPOSITORIES;
use crate::db::sizes::SizeRecord;
use crate::error::ApiError;
use crate::http::pagination::{PAGE_SIZE, Page, PageNumber};
use crate::http::path_id::PathId;
use crate::http::request::ApiRequest;
use crate::state::AppState;

/// The repository's sizes in kilobytes, newest first: the first size a sync saw, then one
/// row each time it changed.
#[utoipa::path(get, path = "/github/repositories/{id}/sizes/", tag = "repositories", operation_id = "repositories_sizes",
    params(
        ("id" = Uuid, Path, description = "The repository's id"),
        ("page" = Option<String>, Query, description = "Page number from 1 (ten records a page), or `last`"),
    ),
    responses((status = 200, description = "A page of sizes", body = Page<SizeRecord>)))]
pub async fn sizes(
    State(state): State<AppState>,
    PathId(id): PathId<Uuid>,
    request: ApiRequest,
) -> Result<Json<Page<SizeRecord>>, ApiError> {
    let number = PageNumber::requested(request.params.get("page"))?;
    if !state.db.exists(&REPOSITORIES, id).await? {
        return Err(ApiError::NotFound);
    }
    let count = state.db.sizes_kept(id).await?;
    let page = PageNumber::check(number, count)?;
    let rows = state.db.sizes(id, PAGE_SIZE, page.offset()).await?;
    Ok(Json(page.wrap(&request, count, rows)))
}
