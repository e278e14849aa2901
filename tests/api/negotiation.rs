//! One answer, several renderings: compact JSON, indented JSON, HTML; 406 for the rest.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, USER, backend_tests};
use crate::seed::{self, Dev};

async fn with_accept(app: &TestApp, path: &str, accept: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header("accept", accept)
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap()
}

async fn json_is_compact_utf8_by_default(app: TestApp) {
    seed::developer(
        &app.db,
        Dev {
            name: Some("Mårten Åsberg".into()),
            ..seed::dev(1, "89netraM")
        },
    )
    .await;
    let response = app.get_auth("/github/developers/").await;
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().await.unwrap();
    assert!(
        text.starts_with("{\"count\":1,\"next\":null,\"previous\":null,\"results\":[{\"id\":\""),
        "{text}"
    );
    assert!(
        text.contains("\"name\":\"Mårten Åsberg\""),
        "UTF-8, not escapes: {text}"
    );
    assert!(
        !text.contains(": ") && !text.contains(", "),
        "compact: {text}"
    );
}

async fn accept_indent_pretty_prints(app: TestApp) {
    let text = with_accept(&app, "/github/", "application/json; indent=4")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.starts_with("{\n    \"developers\": \"http://"),
        "{text}"
    );
    let compact = with_accept(&app, "/github/", "application/json; indent=99")
        .await
        .text()
        .await
        .unwrap();
    assert!(compact.starts_with("{\"developers\":"), "{compact}");
}

async fn browsers_get_a_linked_escaped_html_page(app: TestApp) {
    let id = seed::developer(
        &app.db,
        Dev {
            bio: Some("<b>bold</b> & \"quoted\"".into()),
            ..seed::dev(1, "ada")
        },
    )
    .await;
    for response in [
        with_accept(
            &app,
            "/github/developers/",
            "text/html,application/xhtml+xml,*/*;q=0.8",
        )
        .await,
        app.get_auth("/github/developers/?format=api").await,
    ] {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        let page = response.text().await.unwrap();
        assert!(
            page.contains("&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;"),
            "{page}"
        );
        assert!(!page.contains("<b>bold</b>"));
        assert!(
            page.contains(&format!(
                "<a href=\"{}/github/developers/{id}/",
                app.address
            )),
            "{page}"
        );
    }
}

async fn format_json_wins_and_is_carried_into_links(app: TestApp) {
    let id = seed::developer(&app.db, seed::dev(1, "ada")).await;
    let response = with_accept(&app, "/github/developers/?format=json", "text/html").await;
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["results"][0]["url"],
        json!(format!(
            "{}/github/developers/{id}/?format=json",
            app.address
        ))
    );
    let (_, root) = app.json("/github/?format=json").await;
    assert_eq!(
        root["developers"],
        json!(format!("{}/github/developers/?format=json", app.address))
    );
}

async fn unservable_accept_is_406_before_authentication(app: TestApp) {
    let response = app
        .client
        .get(app.url("/github/developers/"))
        .header("accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Could not satisfy the request Accept header."})
    );
    let unknown_format = app.get_auth("/github/developers/?format=xml").await;
    assert_eq!(unknown_format.status(), StatusCode::NOT_FOUND);
}

backend_tests!(
    json_is_compact_utf8_by_default,
    accept_indent_pretty_prints,
    browsers_get_a_linked_escaped_html_page,
    format_json_wins_and_is_carried_into_links,
    unservable_accept_is_406_before_authentication,
);
