//! The tower-http layers around every route, outermost first: a request id (taken from
//! `x-request-id` or made up, echoed in the answer), a trace span carrying it with the method
//! and the matched route (so every log line of the request names them), panics answered as
//! 500s, CORS, the answer counted for the metrics, and the request time-out. Around what
//! has content to serve (the API and its documents, not the probes): ETags and compression.

use std::any::Any;
use std::ops::ControlFlow;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::header::{
    ACCEPT_ENCODING, ACCESS_CONTROL_ALLOW_ORIGIN, AUTHORIZATION, CONTENT_TYPE, VARY,
};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::TryFutureExt;
use futures_util::future::{Either, MapOk};
use tower::layer::util::{Identity, Stack};
use tower::{Layer, Service, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::{
    Compression, CompressionBody, DefaultPredicate, ResponseFuture as CompressionFuture,
};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};

use crate::config::{Config, CorsOrigins};
use crate::error::ApiError;
use crate::http::etag::ConditionalLayer;
use crate::http::hook::{Hook, HookLayer};
use crate::http::limits::{self, Limits};
use crate::http::method::ExplainNotAllowed;
use crate::metrics;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// ETags and compression, for routes whose answers are worth them; more layers of a route
/// group go on after them, to be applied with them in one `layer` call.
pub fn content() -> ServiceBuilder<Stack<CompressWhenAskedLayer, Stack<ConditionalLayer, Identity>>>
{
    ServiceBuilder::new()
        .layer(ConditionalLayer)
        .layer(CompressWhenAskedLayer)
}

/// tower-http's compression for a request with `Accept-Encoding`; one without goes around
/// it, sparing its answer the trip through the compressing body (a large value, moved and
/// boxed on the way out), and is told, as compression would tell it, that the answer varies
/// with that header.
#[derive(Clone, Copy, Debug)]
pub struct CompressWhenAskedLayer;

impl<S> Layer<S> for CompressWhenAskedLayer {
    type Service = CompressWhenAsked<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CompressWhenAsked(Compression::new(inner))
    }
}

#[derive(Clone)]
pub struct CompressWhenAsked<S>(Compression<S>);

type Answered<F, B> = MapOk<F, fn(axum::http::Response<B>) -> Response>;

impl<S> Service<Request> for CompressWhenAsked<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<
        Answered<CompressionFuture<S::Future, DefaultPredicate>, CompressionBody<Body>>,
        Answered<S::Future, Body>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.headers().contains_key(ACCEPT_ENCODING) {
            Either::Left(
                self.0
                    .call(request)
                    .map_ok(IntoResponse::into_response as fn(_) -> _),
            )
        } else {
            Either::Right(
                self.0
                    .get_mut()
                    .call(request)
                    .map_ok(varies_with_encoding as fn(_) -> _),
            )
        }
    }
}

fn varies_with_encoding(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let said = headers.get_all(VARY).iter().any(|value| {
        value
            .as_bytes()
            .split(|&byte| byte == b',')
            .any(|name| name.trim_ascii().eq_ignore_ascii_case(b"accept-encoding"))
    });
    if !said {
        headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// A random UUID for a request that came without an id: from a fast generator, not the
/// system's (a system call a request); an id needs to be unique, not unpredictable.
#[derive(Clone, Copy)]
struct FreshId;

impl MakeRequestId for FreshId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
        let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
        let id = HeaderValue::from_str(id.hyphenated().encode_lower(&mut text)).ok()?;
        Some(RequestId::new(id))
    }
}

/// `router` inside the whole stack, and the size limits inside it.
///
/// The layers go on as one: each `Router::layer` call wraps every route in a boxed service
/// of its own, and axum clones a route's box, with all it holds, for each request it
/// serves, so a stack applied layer by layer costs a clone of the rest of it at every level.
pub fn around<S: Clone + Send + Sync + 'static>(router: Router<S>, config: &Config) -> Router<S> {
    let timeout = Duration::from_secs(config.request_timeout_seconds);
    let cors = cors(&config.cors_allowed_origins).map(|cors| {
        ServiceBuilder::new()
            .map_response(only_for_allowed_origins)
            .layer(cors)
    });
    router.layer(
        ServiceBuilder::new()
            .map_request(drop_unfit_request_id)
            .layer(SetRequestIdLayer::x_request_id(FreshId))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(CatchPanicLayer::custom(panicked))
            .option_layer(cors)
            .layer(HookLayer(CountAnswer))
            .map_response(timed_out_in_api_shape)
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                timeout,
            ))
            .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
            .layer(HookLayer(Limits))
            .layer(HookLayer(ExplainNotAllowed)),
    )
}

/// A client's request id is kept when it is short and plain (it goes into every log line of
/// the request and back into the answer); any other is replaced by a fresh one.
fn drop_unfit_request_id(mut request: Request) -> Request {
    let fit = request.headers().get(&REQUEST_ID).map(|id| {
        let id = id.as_bytes();
        id.len() <= 128
            && id
                .iter()
                .all(|byte| byte.is_ascii_alphanumeric() || b"-_.:".contains(byte))
    });
    if fit == Some(false) {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

fn request_span(request: &Request) -> Span {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str);
    tracing::info_span!("request", id, method = %request.method(), route)
}

/// The route of answers no route gave (the fallback's 404s and redirects).
const UNMATCHED: &str = "unmatched";

/// Counts the answer by route template, method and status, with its latency.
#[derive(Clone, Copy, Debug)]
struct CountAnswer;

impl Hook for CountAnswer {
    type Kept = (Method, Option<MatchedPath>, Instant);

    fn before(&self, request: &Request) -> ControlFlow<Response, Self::Kept> {
        let route = request.extensions().get::<MatchedPath>().cloned();
        ControlFlow::Continue((request.method().clone(), route, Instant::now()))
    }

    fn after(&self, (method, route, started): Self::Kept, response: Response) -> Response {
        metrics::http_answered(
            method.as_str(),
            route.as_ref().map_or(UNMATCHED, MatchedPath::as_str),
            response.status().as_u16(),
            started.elapsed(),
        );
        response
    }
}

/// The time-out layer answers a bare 503; the API answers in its own shape.
fn timed_out_in_api_shape(response: Response) -> Response {
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
fn only_for_allowed_origins(mut response: Response) -> Response {
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
        CorsOrigins::All => Some(
            layer
                .allow_origin(AllowOrigin::any())
                .allow_headers([CONTENT_TYPE]),
        ),
        CorsOrigins::Only(list) if list.is_empty() => None,
        CorsOrigins::Only(list) => {
            let list = list
                .iter()
                .filter_map(|origin| HeaderValue::from_str(&origin.0).ok());
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
        assert_eq!(response.headers()[&REQUEST_ID], "panic-42");
        let body = to_bytes(response.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], br#"{"detail":"A server error occurred."}"#);
    }

    #[tokio::test]
    async fn an_unfit_request_id_is_replaced() {
        let response = answer(get(|| async { "ok" }), "a b<script>").await;
        let id = response.headers()[&REQUEST_ID].to_str().unwrap();
        assert_eq!(id.len(), 36, "a fresh UUID: {id}");
    }
}
