//! `/metrics`: Prometheus's text exposition. Not in the OpenAPI document: it is for scrapers,
//! not API clients. On the API's port it needs the API's credentials; `metrics_bind` serves it
//! without, on an address of its own.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::db::Db;
use crate::error::ApiError;
use crate::jobs::Task;
use crate::state::AppState;

const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the metrics read: the store, and each pool of the process by name.
#[derive(Clone)]
pub struct MetricsState {
    pub db: Db,
    pub pools: Arc<[(&'static str, Db)]>,
}

impl MetricsState {
    /// A server's: the API's pool (which reads the store) and the workers'.
    pub fn of_server(db: &Db, work_db: &Db) -> Self {
        Self {
            db: db.clone(),
            pools: Arc::new([("api", db.clone()), ("work", work_db.clone())]),
        }
    }
}

impl FromRef<AppState> for MetricsState {
    fn from_ref(state: &AppState) -> Self {
        Self::of_server(&state.db, &state.work_db)
    }
}

pub async fn metrics(State(state): State<MetricsState>) -> Result<impl IntoResponse, ApiError> {
    let text = crate::metrics::render(&state.db, &state.pools, &Task::NAMES).await?;
    Ok(([(CONTENT_TYPE, EXPOSITION)], text))
}
