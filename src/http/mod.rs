//! The HTTP surface: the router and everything between a request and a handler.

mod auth;
mod charts;
mod cursor;
mod embed;
mod etag;
mod filters;
mod forms;
mod hook;
mod html;
mod limits;
mod method;
mod moved;
mod negotiate;
mod omit;
pub mod openapi;
mod ordering;
mod pagination;
mod params;
mod path_id;
mod request;
mod resource;
mod routes;
mod search;
mod serve;
mod stack;

pub use routes::metrics::MetricsState;
pub use serve::serve;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;
use routes::{
    auth_token, dashboard, developers, export, jobs, rate_limits, repositories, repository_history,
    root, stats, tasks,
};

/// The whole service's routes. Order of checks for the API, as DRF's: content negotiation,
/// authentication, then the method, then the handler.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let require_user = || middleware::from_fn_with_state(state.clone(), auth::require_user);
    // Each group's layers go on in one call: see `stack::around`.
    let content = Router::new()
        .merge(
            protected_routes().layer(
                stack::content()
                    .layer(negotiate::NegotiateLayer)
                    .layer(require_user())
                    .layer(middleware::from_fn_with_state(
                        state.clone(),
                        moved::redirect_merged,
                    )),
            ),
        )
        .merge(public_routes().layer(stack::content().layer(negotiate::NegotiateLayer)))
        // Downloads and images, not API answers: no JSON or HTML to negotiate.
        .merge(export_routes().layer(stack::content().layer(require_user())))
        .merge(image_routes().layer(stack::content().layer(require_user())))
        .merge(routes::docs::router(api_document()).layer(stack::content()));
    let metrics = Router::new()
        .route("/metrics", get(routes::metrics::metrics))
        .layer(require_user());
    let router = Router::new()
        .merge(content)
        .merge(metrics)
        .route(
            "/",
            get(|| async { (StatusCode::FOUND, [(LOCATION, "/github/")]) }),
        )
        .route("/health/", get(routes::health::health))
        .route("/ready/", get(routes::health::ready))
        .fallback(not_found_or_add_slash);
    stack::around(router, &config).with_state(state)
}

/// `/metrics` alone, without authentication, for `metrics_bind`.
pub fn metrics_router(state: routes::metrics::MetricsState) -> Router {
    Router::new()
        .route("/metrics", get(routes::metrics::metrics))
        .with_state(state)
}

/// The OpenAPI document: what the routes register, completed with what they share.
pub fn api_document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = OpenApiRouter::<AppState>::with_openapi(openapi::ApiDoc::openapi())
        .merge(protected_routes())
        .merge(public_routes())
        .merge(export_routes())
        .merge(image_routes())
        .split_for_parts();
    openapi::complete(&mut document);
    document
}

/// Routes that need a user.
fn protected_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(developers::list))
        .routes(routes!(developers::detail))
        .routes(routes!(developers::followers))
        .routes(routes!(developers::following))
        .routes(routes!(developers::starred_repositories))
        .routes(routes!(developers::repositories))
        .routes(routes!(repositories::list))
        .routes(routes!(repositories::detail))
        .routes(routes!(repositories::stargazers))
        .routes(routes!(repository_history::sizes))
        .routes(routes!(repository_history::star_history))
        .routes(routes!(rate_limits::list))
        .routes(routes!(rate_limits::detail))
        .routes(routes!(tasks::list, tasks::create))
        .routes(routes!(jobs::list))
        .routes(routes!(jobs::detail))
        .routes(routes!(stats::stats))
        .routes(routes!(dashboard::dashboard))
}

/// Graph downloads: authenticated, each holding a pooled connection while it streams.
fn export_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export::export))
        .routes(routes!(export::export_csv))
}

/// Charts the HTML pages show as images.
fn image_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(repository_history::star_history_chart))
}

/// How many graph downloads may stream at once; one more is told to come back later.
pub const CONCURRENT_EXPORTS: usize = 2;

/// The root, and the token route, which checks Basic credentials itself.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(root::root))
        .routes(routes!(auth_token::issue, auth_token::issue_post))
}

/// Unknown paths: without their trailing slash, redirected to it as Django's APPEND_SLASH
/// does (query kept); otherwise `{"detail": "Not found."}`.
async fn not_found_or_add_slash(request: Request) -> Response {
    let uri = request.uri();
    if uri.path().ends_with('/') {
        return ApiError::NotFound.into_response();
    }
    let target = match uri.query() {
        Some(query) => format!("{}/?{query}", uri.path()),
        None => format!("{}/", uri.path()),
    };
    (StatusCode::MOVED_PERMANENTLY, [(LOCATION, target)]).into_response()
}
