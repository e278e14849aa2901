//! Middleware made of two plain functions, one before the rest of the stack and one after:
//! for the checks and the bookkeeping every request goes through, which need no `await`.
//!
//! axum's `from_fn` would do, but it boxes a clone of the rest of the stack and the
//! request's future for every request; a hook costs a function call on each side.

use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::extract::Request;
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

pub trait Hook: Clone {
    /// What `before` keeps of the request for `after`.
    type Kept;

    /// Sees the request first: `Break` is the answer, and the rest of the stack never sees
    /// the request.
    fn before(&self, request: &Request) -> ControlFlow<Response, Self::Kept>;

    /// Sees the answer of the rest of the stack on its way out; a hook that only checks
    /// lets it pass.
    fn after(&self, _kept: Self::Kept, response: Response) -> Response {
        response
    }
}

/// The layer of a hook.
#[derive(Clone, Copy, Debug)]
pub struct HookLayer<H>(pub H);

impl<H: Hook, S> Layer<S> for HookLayer<H> {
    type Service = Hooked<H, S>;

    fn layer(&self, inner: S) -> Self::Service {
        Hooked {
            hook: self.0.clone(),
            inner,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Hooked<H, S> {
    hook: H,
    inner: S,
}

impl<H, S> Service<Request> for Hooked<H, S>
where
    H: Hook,
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = HookFuture<H, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match self.hook.before(&request) {
            ControlFlow::Continue(kept) => HookFuture::Running {
                inner: self.inner.call(request),
                hook: Some((self.hook.clone(), kept)),
            },
            ControlFlow::Break(answer) => HookFuture::Answered {
                answer: Some(answer),
            },
        }
    }
}

pin_project! {
    #[project = Projected]
    pub enum HookFuture<H: Hook, F> {
        Running { #[pin] inner: F, hook: Option<(H, H::Kept)> },
        Answered { answer: Option<Response> },
    }
}

impl<H, F, E> Future for HookFuture<H, F>
where
    H: Hook,
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            Projected::Running { inner, hook } => {
                let response = ready!(inner.poll(cx))?;
                let (hook, kept) = hook
                    .take()
                    .expect("a hook future polled after it completed");
                Poll::Ready(Ok(hook.after(kept, response)))
            }
            Projected::Answered { answer } => Poll::Ready(Ok(answer
                .take()
                .expect("a hook future polled after it completed"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use tower::ServiceExt;

    use super::*;

    /// Refuses POSTs, and counts the answers it sees go out with their status.
    #[derive(Clone, Default)]
    struct NoPosts(Arc<AtomicUsize>);

    impl Hook for NoPosts {
        type Kept = StatusCode;

        fn before(&self, request: &Request) -> ControlFlow<Response, StatusCode> {
            if request.method() == "POST" {
                return ControlFlow::Break(StatusCode::METHOD_NOT_ALLOWED.into_response());
            }
            ControlFlow::Continue(StatusCode::IM_A_TEAPOT)
        }

        fn after(&self, kept: StatusCode, mut response: Response) -> Response {
            self.0.fetch_add(1, Ordering::Relaxed);
            *response.status_mut() = kept;
            response
        }
    }

    #[tokio::test]
    async fn a_hook_answers_before_or_changes_the_answer_after() {
        let hook = NoPosts::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let inner = {
            let calls = calls.clone();
            tower::service_fn(move |_: Request| {
                calls.fetch_add(1, Ordering::Relaxed);
                async { Ok::<_, std::convert::Infallible>(StatusCode::OK.into_response()) }
            })
        };
        let service = HookLayer(hook.clone()).layer(inner);
        let request = |method: &str| Request::builder().method(method).body(Body::empty());

        let get = service
            .clone()
            .oneshot(request("GET").unwrap())
            .await
            .unwrap();
        assert_eq!(
            get.status(),
            StatusCode::IM_A_TEAPOT,
            "`after` saw the answer"
        );
        let post = service.oneshot(request("POST").unwrap()).await.unwrap();
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            calls.load(Ordering::Relaxed),
            1,
            "the refused POST went no further"
        );
        assert_eq!(hook.0.load(Ordering::Relaxed), 1, "nor through `after`");
    }
}
