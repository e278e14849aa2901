//! `/github/`: the API root, public, linking each collection (DRF's router root).

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::{developers, rate_limits, repositories};
use crate::http::request::ApiRequest;

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiRoot {
    pub developers: String,
    pub repositories: String,
    pub rate_limit: String,
}

/// Links to every collection of the API. Needs no authentication.
#[utoipa::path(get, path = "/github/", tag = "root", operation_id = "root",
    responses((status = 200, description = "Links to the collections", body = ApiRoot)))]
pub async fn root(request: ApiRequest) -> Json<ApiRoot> {
    Json(ApiRoot {
        developers: request.link(developers::COLLECTION.path),
        repositories: request.link(repositories::COLLECTION.path),
        rate_limit: request.link(rate_limits::COLLECTION.path),
    })
}
