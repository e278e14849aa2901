//! Conditional GETs: every successful GET answer carries a strong `ETag` (a hash of the
//! bytes sent), and a request whose `If-None-Match` names it gets a bodiless 304, so a
//! client polling an unchanged page (a dashboard, a script waiting for a job) downloads
//! nothing. It sits outside compression: the tag is that of the encoded bytes, so a gzip
//! answer and a plain one have different tags, as strong tags must.

use std::future::Future;
use std::hash::Hasher;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::response::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use pin_project_lite::pin_project;
use siphasher::sip128::{Hasher128, SipHasher13};
use tower::{Layer, Service};

use crate::error::ApiError;

/// Answers are built in memory before they are sent; none comes near this.
const MAX_BODY: usize = 256 * 1024 * 1024;

/// Marks an answer streamed as it is produced (a download of the whole graph): tagging it
/// would mean holding all of it in memory first.
#[derive(Clone, Copy, Debug)]
pub struct Streamed;

/// The layer that tags answers and answers `If-None-Match`.
#[derive(Clone, Copy, Debug)]
pub struct ConditionalLayer;

impl<S> Layer<S> for ConditionalLayer {
    type Service = Conditional<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Conditional(inner)
    }
}

#[derive(Clone, Debug)]
pub struct Conditional<S>(S);

impl<S> Service<Request> for Conditional<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ConditionalFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let wanted = (request.method() == Method::GET)
            .then(|| request.headers().get(IF_NONE_MATCH).cloned());
        ConditionalFuture::Answering {
            answer: self.0.call(request),
            wanted,
        }
    }
}

pin_project! {
    /// The answer of the rest of the stack, then, for a GET's answer to tag, its body read
    /// frame by frame (a handler's is one frame, taken as it is, without a copy).
    #[project = Stage]
    pub enum ConditionalFuture<F> {
        Answering { #[pin] answer: F, wanted: Option<Option<HeaderValue>> },
        Reading { parts: Option<Parts>, body: Body, read: Read, wanted: Option<HeaderValue> },
    }
}

impl<F, E> Future for ConditionalFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                Stage::Answering { answer, wanted } => {
                    let response = ready!(answer.poll(cx))?;
                    let Some(wanted) = wanted.take().filter(|_| taggable(&response)) else {
                        return Poll::Ready(Ok(response));
                    };
                    let (parts, body) = response.into_parts();
                    self.set(ConditionalFuture::Reading {
                        parts: Some(parts),
                        body,
                        read: Read::Nothing,
                        wanted,
                    });
                }
                Stage::Reading {
                    parts,
                    body,
                    read,
                    wanted,
                } => {
                    match ready!(Pin::new(body).poll_frame(cx)) {
                        Some(Ok(frame)) => {
                            // Trailers, which no answer of ours has, are not part of the tag.
                            let Ok(data) = frame.into_data() else {
                                continue;
                            };
                            if read.len() + data.len() > MAX_BODY {
                                return unreadable("it is over the size limit");
                            }
                            read.add(data);
                        }
                        Some(Err(err)) => return unreadable(err),
                        None => {
                            let parts = parts
                                .take()
                                .expect("an ETag future polled after it completed");
                            let bytes = std::mem::replace(read, Read::Nothing).into_bytes();
                            return Poll::Ready(Ok(tagged(parts, bytes, wanted.as_ref())));
                        }
                    }
                }
            }
        }
    }
}

fn unreadable<E>(why: impl std::fmt::Display) -> Poll<Result<Response, E>> {
    let err = anyhow::anyhow!("an answer could not be read whole to tag it: {why}");
    Poll::Ready(Ok(ApiError::Internal(err).into_response()))
}

/// The bytes of a body read so far: one frame kept as it came, more joined.
#[derive(Debug)]
pub enum Read {
    Nothing,
    One(Bytes),
    Joined(BytesMut),
}

impl Read {
    fn len(&self) -> usize {
        match self {
            Read::Nothing => 0,
            Read::One(bytes) => bytes.len(),
            Read::Joined(bytes) => bytes.len(),
        }
    }

    fn add(&mut self, data: Bytes) {
        *self = match std::mem::replace(self, Read::Nothing) {
            Read::Nothing => Read::One(data),
            Read::One(first) => {
                let mut joined = BytesMut::with_capacity(first.len() + data.len());
                joined.extend_from_slice(&first);
                joined.extend_from_slice(&data);
                Read::Joined(joined)
            }
            Read::Joined(mut joined) => {
                joined.extend_from_slice(&data);
                Read::Joined(joined)
            }
        }
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Read::Nothing => Bytes::new(),
            Read::One(bytes) => bytes,
            Read::Joined(bytes) => bytes.freeze(),
        }
    }
}

/// Whether an answer gets a tag: a whole 200 that has none yet.
fn taggable(response: &Response) -> bool {
    response.status() == StatusCode::OK
        && !response.headers().contains_key(ETAG)
        && response.extensions().get::<Streamed>().is_none()
}

/// The answer with its tag, or a bodiless 304 when `wanted` names it.
fn tagged(mut parts: Parts, bytes: Bytes, wanted: Option<&HeaderValue>) -> Response {
    let tag = tag_of(&bytes);
    if wanted.is_some_and(|wanted| names(wanted, &tag)) {
        parts.status = StatusCode::NOT_MODIFIED;
        for header in [CONTENT_LENGTH, CONTENT_TYPE, CONTENT_ENCODING] {
            parts.headers.remove(header);
        }
        parts.headers.insert(ETAG, tag);
        return Response::from_parts(parts, Body::empty());
    }
    parts.headers.insert(ETAG, tag);
    Response::from_parts(parts, Body::from(bytes))
}

/// `"` + the body's 128-bit SipHash-1-3, in hex + `"`. A tag needs to change with the bytes,
/// not to resist forgery: SipHash does that in an eighth of SHA-256's instructions on a
/// small answer (the root's 176 bytes: 879 against 7,034).
fn tag_of(bytes: &[u8]) -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hasher = SipHasher13::new();
    hasher.write(bytes);
    let hash = hasher.finish128().as_bytes();
    let mut tag = [b'"'; 34];
    for (pair, byte) in tag[1..33].chunks_exact_mut(2).zip(hash) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0xf)];
    }
    HeaderValue::from_bytes(&tag).expect("hex digits are a valid header value")
}

/// Whether `If-None-Match` names `tag`: `*`, or one of its comma-separated tags, compared
/// weakly (a `W/` prefix is ignored), as RFC 9110 says for this header.
fn names(wanted: &HeaderValue, tag: &HeaderValue) -> bool {
    let Ok(wanted) = wanted.to_str() else {
        return false;
    };
    let tag = tag.to_str().unwrap_or_default();
    wanted.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == tag
    })
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use axum::body::to_bytes;
    use tower::ServiceExt;

    use super::*;

    /// A compressed answer comes in many frames: they are tagged and sent as one.
    #[tokio::test]
    async fn a_body_of_many_frames_is_tagged_whole_and_sent_unchanged() {
        const WHOLE: &[u8] = br#"{"a":1,"b":2}"#;
        let service = ConditionalLayer.layer(tower::service_fn(|_: Request| async {
            let frames = ["{\"a\":", "1,", "\"b\":2}"].map(Ok::<_, Infallible>);
            let body = Body::from_stream(futures_util::stream::iter(frames));
            Ok::<_, Infallible>(Response::new(body))
        }));
        let get = |tag: Option<&HeaderValue>| {
            let request = Request::get("/");
            let request = match tag {
                Some(tag) => request.header(IF_NONE_MATCH, tag),
                None => request,
            };
            request.body(Body::empty()).unwrap()
        };

        let response = service.clone().oneshot(get(None)).await.unwrap();
        let tag = response.headers()[ETAG].clone();
        assert_eq!(tag, tag_of(WHOLE));
        assert_eq!(to_bytes(response.into_body(), 1024).await.unwrap(), WHOLE);

        let unchanged = service.oneshot(get(Some(&tag))).await.unwrap();
        assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
        assert!(
            to_bytes(unchanged.into_body(), 1024)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_body_that_fails_to_be_read_is_answered_500_in_the_api_shape() {
        let service = ConditionalLayer.layer(tower::service_fn(|_: Request| async {
            let frames = [
                Ok(Bytes::from_static(b"{")),
                Err(std::io::Error::other("gone")),
            ];
            let body = Body::from_stream(futures_util::stream::iter(frames));
            Ok::<_, Infallible>(Response::new(body))
        }));
        let request = Request::get("/").body(Body::empty()).unwrap();
        let response = service.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], br#"{"detail":"A server error occurred."}"#);
    }

    #[test]
    fn if_none_match_is_read_as_rfc_9110_says() {
        let tag = tag_of(b"{}");
        assert_eq!(tag.len(), 34);
        assert_eq!(tag, tag_of(b"{}"), "the same bytes, the same tag");
        let matching = |text: &str| names(&HeaderValue::from_str(text).unwrap(), &tag);
        let text = tag.to_str().unwrap();
        assert!(matching(text));
        assert!(matching(&format!("W/{text}")));
        assert!(matching(&format!("\"other\", {text}")));
        assert!(matching("*"));
        assert!(!matching("\"other\""));
        assert!(!matching(&text[..20]));
        assert_ne!(tag, tag_of(b"{ }"));
    }
}
