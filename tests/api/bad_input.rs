//! Hostile or clumsy requests get a clear 4xx, never a 500.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, backend_tests};
use crate::seed;

async fn huge_and_malformed_query_strings_are_harmless(app: TestApp) {
    seed::developer(&app.db, seed::dev(1, "ada")).await;
    let long = "x".repeat(20_000);
    let (status, body) = app
        .json(&format!("/github/developers/?login={long}&page=1"))
        .await;
    assert_eq!((status, body["count"].clone()), (StatusCode::OK, json!(0)));
    for query in [
        "%FF%FE=%C0",
        "login=%E2%28%A1",
        "&&&==&=",
        "page=%00",
        "login__contains=%00",
        "name__contains=%27%3B+DROP+TABLE+developers%3B--",
    ] {
        let response = app.get_auth(&format!("/github/developers/?{query}")).await;
        assert!(
            response.status().is_success() || response.status().is_client_error(),
            "{query}: {}",
            response.status()
        );
    }
    let (_, after) = app.json("/github/developers/").await;
    assert_eq!(after["count"], 1, "nothing was lost");
}

async fn null_characters_are_refused_as_django_does(app: TestApp) {
    for query in ["login=a%00b", "name__contains=%00", "bio__lte=x%00"] {
        let (status, body) = app.json(&format!("/github/developers/?{query}")).await;
        let param = query.split('=').next().unwrap();
        assert_eq!(
            (status, body),
            (
                StatusCode::BAD_REQUEST,
                json!({param: ["Null characters are not allowed."]})
            ),
            "{query}"
        );
    }
    let (status, _) = app.json("/github/jobs/?name=%00").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let nul_user = app
        .client
        .get(app.url("/github/developers/"))
        .basic_auth("a\0b", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(nul_user.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        nul_user.json::<serde_json::Value>().await.unwrap(),
        json!({"detail": "Invalid username/password."})
    );
}

async fn absurd_numbers_are_clamped_or_refused(app: TestApp) {
    for query in [
        "followers_count=1e308",
        "followers_count__lte=-99999999999999999999999",
        "page=18446744073709551616",
    ] {
        let status = app.json(&format!("/github/developers/?{query}")).await.0;
        assert!(
            status == StatusCode::OK || status == StatusCode::NOT_FOUND,
            "{query}: {status}"
        );
    }
}

async fn a_bad_host_header_is_refused(app: TestApp) {
    let response = app
        .client
        .get(app.url("/github/"))
        .header("host", "evil.example<script>")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"detail": "Invalid Host header."})
    );
}

async fn overlong_headers_and_targets_are_refused_with_a_4xx(app: TestApp) {
    let response = app
        .client
        .get(app.url("/github/"))
        .header("x-padding", "y".repeat(9_000))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"detail": "Request header fields too large."})
    );
    let mut many = app.client.get(app.url("/github/"));
    for i in 0..20 {
        many = many.header(format!("x-pad-{i}"), "z".repeat(4_000));
    }
    assert_eq!(
        many.send().await.unwrap().status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let long = app
        .get_auth(&format!("/github/developers/?login={}", "x".repeat(40_000)))
        .await;
    assert_eq!(long.status(), StatusCode::URI_TOO_LONG);
    let huge = app
        .client
        .get(app.url("/github/"))
        .header("x-padding", "y".repeat(1_000_000))
        .send()
        .await;
    if let Ok(response) = huge {
        assert!(response.status().is_client_error(), "{}", response.status());
    }
}

backend_tests!(
    huge_and_malformed_query_strings_are_harmless,
    null_characters_are_refused_as_django_does,
    absurd_numbers_are_clamped_or_refused,
    a_bad_host_header_is_refused,
    overlong_headers_and_targets_are_refused_with_a_4xx,
);
