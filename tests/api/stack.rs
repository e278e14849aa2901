//! What every request passes through: CORS, compression, ETags, the request time-out, and
//! the connection limits of the server itself.

use std::io::Read;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, ORIGIN, VARY};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{PASSWORD, TestApp, TestDb, USER, backend_tests};
use crate::seed;

const ALLOWED: &str = "https://app.example.com";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/github/developers/"))
        .header(ORIGIN, origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap())
}

async fn a_listed_origin_gets_cors_and_another_does_not(db: TestDb) {
    let app = TestApp::start(db, |config| {
        config.cors_allowed_origins = format!("{ALLOWED}, http://localhost:3000").parse().unwrap();
    })
    .await;
    let allowed = preflight(&app, ALLOWED).await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        Some(ALLOWED)
    );
    assert_eq!(
        header(&allowed, "access-control-allow-credentials"),
        Some("true")
    );
    let headers = header(&allowed, "access-control-allow-headers").unwrap();
    assert!(headers.contains("authorization"), "{headers}");

    let other = preflight(&app, "https://evil.example.net").await;
    let cors: Vec<_> = other
        .headers()
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "{cors:?}");

    // The real request from the listed origin, with credentials, is answered with CORS.
    let answer = app
        .client
        .get(app.url("/github/developers/"))
        .header(ORIGIN, ALLOWED)
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        header(&answer, "access-control-allow-origin"),
        Some(ALLOWED)
    );
}

async fn any_origin_may_read_but_not_with_credentials(db: TestDb) {
    let app = TestApp::start(db, |config| {
        config.cors_allowed_origins = "*".parse().unwrap();
    })
    .await;
    let answer = preflight(&app, "https://anywhere.example").await;
    assert_eq!(header(&answer, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&answer, "access-control-allow-credentials"), None);
    let headers = header(&answer, "access-control-allow-headers").unwrap_or_default();
    assert!(!headers.contains("authorization"), "{headers}");
}

async fn cors_is_off_by_default(app: TestApp) {
    let answer = preflight(&app, ALLOWED).await;
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
}

/// The raw body of `path` asked for with `encoding`, and the encoding it came in.
async fn encoded(app: &TestApp, path: &str, encoding: &str) -> (Option<String>, Vec<u8>) {
    let response = app
        .client
        .get(app.url(path))
        .header(ACCEPT_ENCODING, encoding)
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let used = header(&response, CONTENT_ENCODING.as_str()).map(str::to_owned);
    (used, response.bytes().await.unwrap().to_vec())
}

async fn gzip_and_brotli_decode_to_the_same_json_and_are_smaller(app: TestApp) {
    for n in 1..=10 {
        seed::developer(&app.db, seed::dev(n, &format!("dev-{n}"))).await;
    }
    for path in ["/github/developers/", "/github/swagger.json"] {
        let (identity_encoding, identity) = encoded(&app, path, "identity").await;
        assert_eq!(identity_encoding, None);
        let plain: Value = serde_json::from_slice(&identity).unwrap();

        // Without `Accept-Encoding`, the answer skips compression but still says that it
        // varies with that header, for caches between.
        let unasked = app
            .client
            .get(app.url(path))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(header(&unasked, CONTENT_ENCODING.as_str()), None);
        assert_eq!(header(&unasked, VARY.as_str()), Some("accept-encoding"));
        assert_eq!(unasked.bytes().await.unwrap(), identity, "{path}");

        let (gzip_encoding, gzip) = encoded(&app, path, "gzip").await;
        assert_eq!(gzip_encoding.as_deref(), Some("gzip"));
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_end(&mut unzipped)
            .unwrap();

        let (br_encoding, br) = encoded(&app, path, "br").await;
        assert_eq!(br_encoding.as_deref(), Some("br"));
        let mut unbrotli = Vec::new();
        brotli_decompressor::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut unbrotli)
            .unwrap();

        for (name, compressed, decoded) in [("gzip", &gzip, unzipped), ("br", &br, unbrotli)] {
            let value: Value = serde_json::from_slice(&decoded).unwrap();
            assert_eq!(value, plain, "{path} in {name}");
            assert!(
                compressed.len() < identity.len(),
                "{path}: {name} {} bytes, identity {}",
                compressed.len(),
                identity.len()
            );
        }
    }
}

async fn queue_octocat(app: &TestApp) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/github/tasks/"))
        .basic_auth(USER, Some(PASSWORD))
        .json(&json!({"name": "full_profile_sync", "username": "octocat"}))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn a_request_slower_than_the_time_out_gets_503(db: TestDb) {
    let url = db.url.clone();
    let app = TestApp::start(db, |config| config.request_timeout_seconds = 1).await;
    // Another connection holds the jobs table, so queueing a task waits on it.
    let holder = hold_jobs_table(&url).await;
    let started = Instant::now();
    let (status, body) = queue_octocat(&app).await;
    let waited = started.elapsed();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, json!({"detail": "Request timed out."}));
    assert!(waited < Duration::from_secs(4), "answered after {waited:?}");
    drop(holder);

    // Once the table is free, the same request goes through.
    let (status, body) = queue_octocat(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A transaction on its own connection that keeps others from writing to `jobs` until it
/// is dropped.
async fn hold_jobs_table(url: &str) -> Box<dyn std::any::Any + Send> {
    if url.starts_with("sqlite:") {
        let mut connection = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut connection)
            .await
            .unwrap();
        Box::new(connection)
    } else {
        let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut connection).await.unwrap();
        sqlx::query("LOCK TABLE jobs IN EXCLUSIVE MODE")
            .execute(&mut connection)
            .await
            .unwrap();
        Box::new(connection)
    }
}

/// Reads until the server closes the connection; false if it is still open at `deadline`.
async fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buffer = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

async fn trickling_and_idle_connections_are_closed_while_health_answers(db: TestDb) {
    let app = TestApp::start(db, |config| config.header_read_timeout_seconds = 1).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut trickling = Vec::new();
    for _ in 0..2_000 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"GET /health/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .await
            .unwrap();
        trickling.push(stream);
    }
    let opened = Instant::now();
    let health = app.get("/health/").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok");

    // A keep-alive connection left idle after its answer goes the same way.
    let mut idle = TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /health/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 512];
    let read = idle.read(&mut answer).await.unwrap();
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"));

    let deadline = opened + Duration::from_secs(15);
    let mut open = 0;
    for stream in &mut trickling {
        if !closed_by(stream, deadline).await {
            open += 1;
        }
    }
    assert_eq!(open, 0, "of 2,000 trickling connections, {open} still open");
    assert!(closed_by(&mut idle, Instant::now() + Duration::from_secs(5)).await);
    assert_eq!(app.get("/health/").await.status(), StatusCode::OK);
}

async fn get_if_none_match(app: &TestApp, path: &str, tag: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(path))
        .basic_auth(USER, Some(PASSWORD));
    if let Some(tag) = tag {
        request = request.header(IF_NONE_MATCH, tag);
    }
    request.send().await.unwrap()
}

async fn an_unchanged_answer_is_a_bodiless_304_until_the_data_changes(app: TestApp) {
    seed::developer(&app.db, seed::dev(1, "first")).await;
    let path = "/github/developers/";
    let fresh = get_if_none_match(&app, path, None).await;
    assert_eq!(fresh.status(), StatusCode::OK);
    let tag = header(&fresh, ETAG.as_str()).unwrap().to_owned();
    assert!(
        tag.starts_with('"') && tag.ends_with('"'),
        "a strong tag: {tag}"
    );

    let unchanged = get_if_none_match(&app, path, Some(&tag)).await;
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&unchanged, ETAG.as_str()), Some(tag.as_str()));
    assert!(unchanged.bytes().await.unwrap().is_empty());

    seed::developer(&app.db, seed::dev(2, "second")).await;
    let changed = get_if_none_match(&app, path, Some(&tag)).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let new_tag = header(&changed, ETAG.as_str()).unwrap().to_owned();
    assert_ne!(new_tag, tag);
    let page: Value = changed.json().await.unwrap();
    assert_eq!(page["count"], 2);

    // Another encoding is another representation, with a tag of its own.
    let gzip = app
        .client
        .get(app.url(path))
        .basic_auth(USER, Some(PASSWORD))
        .header(ACCEPT_ENCODING, "gzip")
        .header(IF_NONE_MATCH, &new_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(gzip.status(), StatusCode::OK);
    assert_ne!(header(&gzip, ETAG.as_str()), Some(new_tag.as_str()));
}

backend_tests!(
    a_listed_origin_gets_cors_and_another_does_not,
    any_origin_may_read_but_not_with_credentials,
    cors_is_off_by_default,
    gzip_and_brotli_decode_to_the_same_json_and_are_smaller,
    a_request_slower_than_the_time_out_gets_503,
    trickling_and_idle_connections_are_closed_while_health_answers,
    an_unchanged_answer_is_a_bodiless_304_until_the_data_changes,
);
