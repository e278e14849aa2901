use reqwest::StatusCode;

use crate::helpers::{TestApp, backend_tests};

async fn health_answers_ok(app: TestApp) {
    let response = app.get("/health/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "ok");

    let head = app.client.head(app.url("/health/")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.text().await.unwrap(), "");
}

async fn ready_reports_the_database(app: TestApp) {
    let response = app.get("/ready/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"database": "ok"})
    );
}

async fn root_redirects_to_the_api(app: TestApp) {
    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "/github/");
}

async fn graceful_stop_ends_the_server_cleanly(app: TestApp) {
    let address = app.address.clone();
    app.stop().await.expect("the server stops without error");
    let after = reqwest::get(format!("{address}/health/")).await;
    assert!(after.is_err(), "nothing listens after the stop");
}

backend_tests!(
    health_answers_ok,
    ready_reports_the_database,
    root_redirects_to_the_api,
    graceful_stop_ends_the_server_cleanly,
);
