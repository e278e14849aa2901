//! The tower-http layers around every route, outermost first: a request id (taken from
//! `x-request-id` or made up, echoed in the answer), a trace span carrying it with the method
//! and the matched route (so every log line of the request names them), panics answered as
//! 500s, CORS, the answer counted for the metrics, and the request time-out. Around what
//! has content to serve (the API and its documents, not the probes): ETags and compression.

use std::any::Any;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};

use crate::config::{Config, CorsOrigins};
use crate::error::ApiError;
use crate::http::etag;
use crate::metrics;

pub const REQUEST_ID: &str = "x-request-id";

/// ETags and compression around `router`, whose answers are worth them.
pub fn for_content<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(etag::conditional))
}

/// A random UUID for a request that came without an id: from a fast generator, not the
/// system's (a system call a request); an id needs to be unique, not unpredictable.
#[derive(Clone, Copy)]
struct FreshId;

impl MakeRequestId for FreshId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
        let id = HeaderValue::from_str(&id.hyphenated().to_string()).ok()?;
        Some(RequestId::new(id))
    }
}

/// `router` inside the whole stack.
pub fn around<S: Clone + Send + Sync + 'static>(router: Router<S>, config: &Config) -> Router<S> {
    let timeout = Duration::from_secs(config.request_timeout_seconds);
    let mut router = router
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(middleware::map_response(timed_out_in_api_shape))
        .layer(middleware::from_fn(count_answer));
    if let Some(cors) = cors(&config.cors_allowed_origins) {
        router = router
            .layer(cors)
            .layer(middleware::map_response(only_for_allowed_origins));
    }
    router
        .layer(CatchPanicLayer::custom(panicked))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(FreshId))
        .layer(middleware::map_request(drop_unfit_request_id))
}

/// A client's request id is kept when it is short and plain (it goes into every log line of
/// the request and back into the answer); any other is replaced by a fresh one.
async fn drop_unfit_request_id(mut request: Request) -> Request {
    let fit = request.headers().get(REQUEST_ID).map(|id| {
        let id = id.as_bytes();
        id.len() <= 128
            && id
                .iter()
                .all(|byte| byte.is_ascii_alphanumeric() || b"-_.:".contains(byte))
    });
    if fit == Some(false) {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

fn request_span(request: &Request) -> Span {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!("request", id, method = %request.method(), route)
}

/// Counts the answer by route template, method and status, with its latency.
async fn count_answer(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    metrics::http_answered(
        method.as_str(),
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The time-out layer answers a bare 503; the API answers in its own shape.
async fn timed_out_in_api_shape(response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE
        && !response.headers().contains_key(CONTENT_TYPE)
    {
        return ApiError::Status(StatusCode::SERVICE_UNAVAILABLE, "Request timed out.")
            .into_response();
    }
    response
}

fn panicked(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    ApiError::Internal(anyhow!("a handler panicked: {message}")).into_response()
}

/// tower-http's CORS adds its fixed headers (methods, credentials…) to every answer; an
/// origin it did not allow gets none of them, so that nothing suggests it may.
async fn only_for_allowed_origins(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN) {
        let cors: Vec<_> = headers
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in cors {
            headers.remove(name);
        }
    }
    response
}

/// Listed origins may send credentials (Basic or a bearer token); `*` may not, as browsers
/// refuse credentials with a wildcard anyway.
fn cors(origins: &CorsOrigins) -> Option<CorsLayer> {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
        .max_age(Duration::from_secs(600));
    match origins {
        CorsOrigins::None => None,
        CorsOrigins::Any => Some(
            layer
                .allow_origin(AllowOrigin::any())
                .allow_headers([CONTENT_TYPE]),
        ),
        CorsOrigins::Only(list) => {
            let list = list
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok());
            Some(
                layer
                    .allow_origin(AllowOrigin::list(list))
                    .allow_headers([AUTHORIZATION, CONTENT_TYPE])
                    .allow_credentials(true),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn boom() -> &'static str {
        panic!("boom")
    }

    /// The answer of `route` (at `/`) inside the stack to a request with `request_id`.
    async fn answer(route: axum::routing::MethodRouter, request_id: &str) -> Response {
        let router: Router = around(Router::new().route("/", route), &Config::default());
        let request = Request::builder()
            .uri("/")
            .header(REQUEST_ID, request_id)
            .body(Body::empty())
            .unwrap();
        router.oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_500_in_the_api_shape() {
        let response = answer(get(boom), "panic-42").await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[REQUEST_ID], "panic-42");
        let body = to_bytes(response.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], br#"{"detail":"A server error occurred."}"#);
    }

    #[tokio::test]
    async fn an_unfit_request_id_is_replaced() {
        let response = answer(get(|| async { "ok" }), "a b<script>").await;
        let id = response.headers()[REQUEST_ID].to_str().unwrap();
        assert_eq!(id.len(), 36, "a fresh UUID: {id}");
    }
}
