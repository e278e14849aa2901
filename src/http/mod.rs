//! The HTTP surface: the router and everything between a request and a handler.

use axum::Router;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::routing::get;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { (StatusCode::FOUND, [(LOCATION, "/github/")]) }),
        )
        .route("/health/", get(|| async { "ok" }))
        .with_state(state)
}
