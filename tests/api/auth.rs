//! Who gets in: Basic credentials, bearer tokens, and DRF's refusals.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestDb, USER, backend_tests};

async fn detail_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn with_header(app: &TestApp, path: &str, value: &str) -> (StatusCode, Value) {
    detail_of(
        app.client
            .get(app.url(path))
            .header("authorization", value)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn token(app: &TestApp) -> String {
    let (status, body) = app.json("/github/auth_token/").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["auth_token"].as_str().unwrap().to_owned()
}

async fn data_routes_refuse_anonymous_requests_and_the_root_does_not(app: TestApp) {
    for path in [
        "/github/developers/",
        "/github/repositories/",
        "/github/rate_limit/",
        "/github/developers/00000000-0000-0000-0000-000000000000/",
        "/github/developers/00000000-0000-0000-0000-000000000000/followers/",
    ] {
        let (status, body) = detail_of(app.get(path).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            body,
            json!({"detail": "Authentication credentials were not provided."}),
            "{path}"
        );
    }
    assert_eq!(app.get("/github/").await.status(), StatusCode::OK);
    assert_eq!(
        app.get_auth("/github/developers/").await.status(),
        StatusCode::OK
    );
}

async fn wrong_or_malformed_basic_credentials_are_refused_with_drf_messages(app: TestApp) {
    let wrong = app
        .client
        .get(app.url("/github/developers/"))
        .basic_auth(USER, Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        detail_of(wrong).await,
        (
            StatusCode::FORBIDDEN,
            json!({"detail": "Invalid username/password."})
        )
    );
    let nobody = app
        .client
        .get(app.url("/github/developers/"))
        .basic_auth("nobody", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(
        detail_of(nobody).await,
        (
            StatusCode::FORBIDDEN,
            json!({"detail": "Invalid username/password."})
        )
    );

    let cases = [
        ("Basic", "Invalid basic header. No credentials provided."),
        (
            "Basic a b",
            "Invalid basic header. Credentials string should not contain spaces.",
        ),
        (
            "Basic !!!notbase64",
            "Invalid basic header. Credentials not correctly base64 encoded.",
        ),
        ("Bearer", "Invalid token header. No credentials provided."),
        (
            "Bearer a b",
            "Invalid token header. Token string should not contain spaces.",
        ),
    ];
    for (header, message) in cases {
        assert_eq!(
            with_header(&app, "/github/developers/", header).await,
            (StatusCode::FORBIDDEN, json!({"detail": message})),
            "{header}"
        );
    }
    // An unknown scheme offers no credentials at all.
    assert_eq!(
        with_header(&app, "/github/developers/", "Digest abc").await,
        (
            StatusCode::FORBIDDEN,
            json!({"detail": "Authentication credentials were not provided."})
        )
    );
}

async fn the_password_is_everything_after_the_first_colon(app: TestApp) {
    app.db
        .save_user("colons", &gitomatic::auth::password::hash("a:b:c"))
        .await
        .unwrap();
    let response = app
        .client
        .get(app.url("/github/developers/"))
        .basic_auth("colons", Some("a:b:c"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn a_changed_password_stops_working_at_once(app: TestApp) {
    assert_eq!(
        app.get_auth("/github/developers/").await.status(),
        StatusCode::OK,
        "now cached"
    );
    app.db
        .save_user(USER, &gitomatic::auth::password::hash("new password"))
        .await
        .unwrap();
    assert_eq!(
        app.get_auth("/github/developers/").await.status(),
        StatusCode::FORBIDDEN
    );
}

async fn browsers_are_challenged_for_credentials(app: TestApp) {
    let response = app
        .client
        .get(app.url("/github/developers/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"git-o-matic-9k\""
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let wrong = app
        .client
        .get(app.url("/github/developers/?format=api"))
        .basic_auth(USER, Some("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("Invalid username/password.")
    );
}

async fn a_token_from_auth_token_works_as_bearer(app: TestApp) {
    let token = token(&app).await;
    let posted = app
        .client
        .post(app.url("/github/auth_token/"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::OK);
    let bearer = app
        .client
        .get(app.url("/github/developers/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);

    // A token does not buy another token: that takes the password.
    let again = app
        .client
        .get(app.url("/github/auth_token/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        detail_of(app.get("/github/auth_token/").await).await.0,
        StatusCode::FORBIDDEN
    );
}

async fn forged_and_garbled_tokens_are_refused_saying_which(app: TestApp) {
    let token = token(&app).await;
    let (head, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(
        with_header(&app, "/github/developers/", &format!("Bearer {forged}")).await,
        (
            StatusCode::FORBIDDEN,
            json!({"detail": "Token signature is invalid."})
        )
    );
    assert_eq!(
        with_header(&app, "/github/developers/", "Bearer not-a-jwt").await,
        (
            StatusCode::FORBIDDEN,
            json!({"detail": "Token is invalid."})
        )
    );
}

async fn expired_tokens_are_refused(db: TestDb) {
    let app = TestApp::start(db, |config| config.token_lifetime_seconds = 0).await;
    let token = token(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        with_header(&app, "/github/developers/", &format!("Bearer {token}")).await,
        (
            StatusCode::FORBIDDEN,
            json!({"detail": "Token has expired."})
        )
    );
}

backend_tests!(
    data_routes_refuse_anonymous_requests_and_the_root_does_not,
    wrong_or_malformed_basic_credentials_are_refused_with_drf_messages,
    the_password_is_everything_after_the_first_colon,
    a_changed_password_stops_working_at_once,
    browsers_are_challenged_for_credentials,
    a_token_from_auth_token_works_as_bearer,
    forged_and_garbled_tokens_are_refused_saying_which,
    expired_tokens_are_refused,
);

/// A Basic-auth GET of the developers list as the client `client` (forwarded by the
/// trusted local proxy, so that one test can play several clients).
async fn login_as(app: &TestApp, client: &str, password: &str) -> reqwest::Response {
    app.client
        .get(app.url("/github/developers/"))
        .basic_auth(USER, Some(password))
        .header("x-forwarded-for", format!("198.51.100.99, {client}"))
        .send()
        .await
        .unwrap()
}

async fn failed_logins_are_throttled_per_client(db: TestDb) {
    let app = TestApp::start(db, |config| config.login_failures_per_minute = 3).await;
    let bearer = format!("Bearer {}", token(&app).await);
    for attempt in 1..=3 {
        let refused = login_as(&app, "203.0.113.7", "guess").await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "attempt {attempt}");
    }
    // Past the limit even the right password is refused: a guess must not be confirmed.
    let throttled = login_as(&app, "203.0.113.7", PASSWORD).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let (_, body) = detail_of(throttled).await;
    assert_eq!(
        body,
        json!({"detail": format!("Request was throttled. Expected available in {retry_after} seconds.")})
    );
    let token = app
        .client
        .get(app.url("/github/auth_token/"))
        .basic_auth(USER, Some(PASSWORD))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(
        token.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "tokens are not a way around it"
    );

    // Another client, and tokens issued earlier, are not held back; the client that
    // forwarded the header on the left cannot pick its own bucket.
    assert_eq!(
        login_as(&app, "203.0.113.8", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        with_header(&app, "/github/developers/", &bearer).await.0,
        StatusCode::OK
    );
    let spoofed = app
        .client
        .get(app.url("/github/developers/"))
        .basic_auth(USER, Some(PASSWORD))
        .header("x-forwarded-for", "203.0.113.9, 203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn right_passwords_are_never_throttled(db: TestDb) {
    let app = TestApp::start(db, |config| config.login_failures_per_minute = 2).await;
    for _ in 0..20 {
        assert_eq!(
            login_as(&app, "203.0.113.7", PASSWORD).await.status(),
            StatusCode::OK
        );
    }
}

backend_tests!(
    failed_logins_are_throttled_per_client,
    right_passwords_are_never_throttled,
);
