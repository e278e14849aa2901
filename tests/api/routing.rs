//! Paths and methods: the root, trailing slashes, 404s and 405s.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, USER, backend_tests};

async fn the_root_links_every_collection(app: TestApp) {
    let response = app
        .client
        .get(app.url("/github/"))
        .header("host", "api.example.com:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({
            "developers": "http://api.example.com:8080/github/developers/",
            "repositories": "http://api.example.com:8080/github/repositories/",
            "rate_limit": "http://api.example.com:8080/github/rate_limit/",
        })
    );
}

async fn a_trusted_proxy_decides_scheme_and_host(app: TestApp) {
    // The test client connects from 127.0.0.1, which is trusted by default.
    let response = app
        .client
        .get(app.url("/github/"))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "gitomatic.example.org")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["developers"],
        "https://gitomatic.example.org/github/developers/"
    );
}

async fn paths_without_a_trailing_slash_redirect_keeping_the_query(app: TestApp) {
    let response = app.get("/github/developers?page=2&login=x").await;
    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        response.headers()["location"],
        "/github/developers/?page=2&login=x"
    );
    assert_eq!(app.get("/health").await.headers()["location"], "/health/");
}

async fn unknown_paths_and_ids_are_404_in_the_api_shape(app: TestApp) {
    for path in [
        "/github/nothing-here/",
        "/github/developers/not-a-uuid/",
        "/github/developers/6f1c3a52-5b4f-4a6e-9a59-0c6f0e3c1b11/",
        "/github/developers/6f1c3a52-5b4f-4a6e-9a59-0c6f0e3c1b11/followers/",
        "/github/repositories/%FF%FE/",
        "/github/rate_limit/1/",
        "/github/rate_limit/abc/",
        "/github/rate_limit/99999999999999999999999/",
    ] {
        let (status, body) = app.json(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, json!({"detail": "Not found."}), "{path}");
    }
}

async fn wrong_methods_are_405_with_allow_after_authentication(app: TestApp) {
    let anonymous = app
        .client
        .delete(app.url("/github/developers/"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous.status(),
        StatusCode::FORBIDDEN,
        "authentication comes first"
    );

    let response = app
        .client
        .delete(app.url("/github/developers/"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("HEAD"), "{allow}");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Method \"DELETE\" not allowed."})
    );

    let post = app.client.post(app.url("/health/")).send().await.unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        post.json::<Value>().await.unwrap(),
        json!({"detail": "Method \"POST\" not allowed."})
    );
}

async fn head_answers_like_get_without_a_body(app: TestApp) {
    let response = app
        .client
        .head(app.url("/github/developers/"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), "");
}

backend_tests!(
    the_root_links_every_collection,
    a_trusted_proxy_decides_scheme_and_host,
    paths_without_a_trailing_slash_redirect_keeping_the_query,
    unknown_paths_and_ids_are_404_in_the_api_shape,
    wrong_methods_are_405_with_allow_after_authentication,
    head_answers_like_get_without_a_body,
);
