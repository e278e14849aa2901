//! Every filter kind, with DRF's value rules and 400 bodies.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, backend_tests};
use crate::seed::{self, Dev, Repo, at};

fn logins(body: &Value) -> Vec<&str> {
    let mut logins: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["login"].as_str().unwrap())
        .collect();
    logins.sort_unstable();
    logins
}

fn names(body: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names
}

async fn three_developers(app: &TestApp) {
    seed::developer(
        &app.db,
        Dev {
            name: Some("Ada 100% Lovelace".into()),
            bio: Some("Analytical".into()),
            followers_count: Some(10),
            created_at: at("2015-10-23T16:17:42Z"),
            ..seed::dev(1, "ada")
        },
    )
    .await;
    seed::developer(
        &app.db,
        Dev {
            name: Some("Bob_Builder".into()),
            followers_count: Some(50),
            created_at: at("2018-01-01T00:00:00Z"),
            ..seed::dev(2, "bob")
        },
    )
    .await;
    seed::developer(
        &app.db,
        Dev {
            followers_count: Some(49),
            ..seed::dev(3, "cyd")
        },
    )
    .await;
}

async fn text_filters_compare_and_contain_literally(app: TestApp) {
    three_developers(&app).await;
    let cases = [
        ("login=bob", vec!["bob"]),
        ("login__lte=bob", vec!["ada", "bob"]),
        ("login__gte=b", vec!["bob", "cyd"]),
        ("name__contains=Ada", vec!["ada"]),
        ("name__contains=ada", vec![]),
        ("name__contains=100%25", vec!["ada"]),
        ("name__contains=%25", vec!["ada"]),
        ("name__contains=b_B", vec!["bob"]),
        ("name__contains=_", vec!["bob"]),
        ("name__isnull=true", vec!["cyd"]),
        ("name__isnull=False", vec!["ada", "bob"]),
        ("name__isnull=perhaps", vec!["ada", "bob", "cyd"]),
        ("bio__isnull=1&login__gte=b", vec!["bob", "cyd"]),
        ("login=", vec!["ada", "bob", "cyd"]),
        ("no_such_filter=1", vec!["ada", "bob", "cyd"]),
    ];
    for (query, expected) in cases {
        let (status, body) = app.json(&format!("/github/developers/?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(logins(&body), expected, "{query}");
    }
}

async fn number_filters_truncate_decimals_and_refuse_words(app: TestApp) {
    three_developers(&app).await;
    for (query, expected) in [
        ("followers_count=50", vec!["bob"]),
        ("followers_count__lte=49.9", vec!["ada", "cyd"]),
        ("followers_count__gte=49.5", vec!["bob", "cyd"]),
        ("followers_count__lte=1e400", vec!["ada", "bob", "cyd"]),
    ] {
        let (_, body) = app.json(&format!("/github/developers/?{query}")).await;
        assert_eq!(logins(&body), expected, "{query}");
    }
    assert_eq!(
        app.json("/github/developers/?followers_count__lte=many")
            .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"followers_count__lte": ["Enter a number."]})
        )
    );
}

async fn datetime_filters_read_zones_and_refuse_nonsense(app: TestApp) {
    three_developers(&app).await;
    for (query, expected) in [
        ("created_at=2015-10-23T16:17:42Z", vec!["ada"]),
        ("created_at__gte=2015-10-23 16:17:43", vec!["bob"]),
        ("created_at__lte=2015-10-23T18:17:42%2B02:00", vec!["ada"]),
        ("created_at__gte=2010-01-01T00:00", vec!["ada", "bob"]),
    ] {
        let (_, body) = app.json(&format!("/github/developers/?{query}")).await;
        assert_eq!(logins(&body), expected, "{query}");
    }
    assert_eq!(
        app.json("/github/developers/?created_at__gte=last+week&updated_at=2020-02-30T00:00&followers_count=x").await,
        (StatusCode::BAD_REQUEST, json!({
            "followers_count": ["Enter a number."],
            "created_at__gte": ["Enter a valid date/time."],
            "updated_at": ["Enter a valid date/time."],
        }))
    );
}

async fn boolean_filters_take_true_false_one_zero_in_any_case(app: TestApp) {
    let owner = seed::developer(&app.db, seed::dev(1, "ada")).await;
    seed::repository(
        &app.db,
        Repo {
            private: Some(true),
            stargazers_count: Some(5),
            language: Some("Rust".into()),
            ..seed::repo(10, (owner, 1, "ada"), "secret")
        },
    )
    .await;
    seed::repository(
        &app.db,
        Repo {
            private: Some(false),
            stargazers_count: Some(0),
            ..seed::repo(11, (owner, 1, "ada"), "open")
        },
    )
    .await;
    for (query, expected) in [
        ("private=TRUE", vec!["secret"]),
        ("private=1", vec!["secret"]),
        ("private=false", vec!["open"]),
        ("private=0", vec!["open"]),
        ("private=yes", vec!["open", "secret"]),
        ("language__isnull=true", vec!["open"]),
        ("language=Rust", vec!["secret"]),
        ("owner_github_id=1", vec!["open", "secret"]),
        ("owner_github_id=2", vec![]),
        ("full_name=ada/open", vec!["open"]),
        ("stargazers_count__gte=1", vec!["secret"]),
    ] {
        let (status, body) = app.json(&format!("/github/repositories/?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(names(&body), expected, "{query}");
    }
}

async fn filters_apply_to_detail_routes_too(app: TestApp) {
    let id = seed::developer(
        &app.db,
        Dev {
            followers_count: Some(5),
            ..seed::dev(1, "ada")
        },
    )
    .await;
    assert_eq!(
        app.json(&format!("/github/developers/{id}/?followers_count=5"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        app.json(&format!("/github/developers/{id}/?followers_count=6"))
            .await,
        (StatusCode::NOT_FOUND, json!({"detail": "Not found."}))
    );
    assert_eq!(
        app.json(&format!("/github/developers/{id}/?followers_count=six"))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

async fn rate_limit_filters_and_core_is_id_one(app: TestApp) {
    seed::rate_limit(&app.db, "core", 5000, 4829, 1_601_742_255).await;
    seed::rate_limit(&app.db, "graphql", 5000, 5000, 1_601_745_000).await;
    let (_, core) = app.json("/github/rate_limit/1/").await;
    assert_eq!(
        core,
        json!({
            "url": format!("{}/github/rate_limit/1/", app.address),
            "rate_limit": 5000,
            "rate_remaining": 4829,
            "rate_reset_raw": 1_601_742_255,
            "rate_reset": "2020-10-03T16:24:15Z",
            "resource": "core",
        })
    );
    let (_, low) = app
        .json("/github/rate_limit/?rate_remaining__lte=4900")
        .await;
    assert_eq!(low["count"], 1);
    let (_, later) = app
        .json("/github/rate_limit/?rate_reset__gte=2020-10-03T17:00:00Z")
        .await;
    assert_eq!(later["results"][0]["resource"], "graphql");
}

backend_tests!(
    text_filters_compare_and_contain_literally,
    number_filters_truncate_decimals_and_refuse_words,
    datetime_filters_read_zones_and_refuse_nonsense,
    boolean_filters_take_true_false_one_zero_in_any_case,
    filters_apply_to_detail_routes_too,
    rate_limit_filters_and_core_is_id_one,
);
