//! DRF's pagination and the lists' order.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, backend_tests};
use crate::seed::{self, Dev, at};

/// `n` developers created a day apart, the newest last.
async fn developers(app: &TestApp, n: i64) {
    for i in 0..n {
        let created = format!("2020-01-{:02}T00:00:00Z", i + 1);
        seed::developer(
            &app.db,
            Dev {
                created_at: at(&created),
                ..seed::dev(i + 1, &format!("dev{i:02}"))
            },
        )
        .await;
    }
}

fn logins(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["login"].as_str().unwrap().to_owned())
        .collect()
}

async fn an_empty_table_still_has_page_one(app: TestApp) {
    let (status, body) = app.json("/github/developers/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"count": 0, "next": null, "previous": null, "results": []})
    );
    assert_eq!(
        app.json("/github/developers/?page=last").await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.json("/github/developers/?page=2").await,
        (StatusCode::NOT_FOUND, json!({"detail": "Invalid page."}))
    );
}

async fn pages_link_to_their_neighbours(app: TestApp) {
    developers(&app, 25).await;
    let base = format!("{}/github/developers/", app.address);
    let (_, first) = app.json("/github/developers/").await;
    assert_eq!(first["count"], 25);
    assert_eq!(first["next"], json!(format!("{base}?page=2")));
    assert_eq!(first["previous"], Value::Null);
    assert_eq!(logins(&first)[0], "dev24", "newest first");
    assert_eq!(first["results"].as_array().unwrap().len(), 10);

    let (_, second) = app.json("/github/developers/?page=2").await;
    assert_eq!(
        second["previous"],
        json!(base),
        "previous of page 2 drops page"
    );
    assert_eq!(second["next"], json!(format!("{base}?page=3")));

    let (_, last) = app.json("/github/developers/?page=last").await;
    assert_eq!(last["next"], Value::Null);
    assert_eq!(last["previous"], json!(format!("{base}?page=2")));
    assert_eq!(
        logins(&last),
        vec!["dev04", "dev03", "dev02", "dev01", "dev00"]
    );
}

async fn links_keep_other_parameters_sorted(app: TestApp) {
    developers(&app, 25).await;
    let (_, body) = app
        .json("/github/developers/?page=2&login__gte=dev&zeta=1&format=json")
        .await;
    let base = format!("{}/github/developers/", app.address);
    assert_eq!(
        body["next"],
        json!(format!("{base}?format=json&login__gte=dev&page=3&zeta=1"))
    );
    assert_eq!(
        body["previous"],
        json!(format!("{base}?format=json&login__gte=dev&zeta=1"))
    );
}

async fn invalid_pages_are_404(app: TestApp) {
    developers(&app, 11).await;
    for page in [
        "0",
        "-1",
        "3",
        "abc",
        "1.5",
        "",
        "99999999999999999999999999",
    ] {
        assert_eq!(
            app.json(&format!("/github/developers/?page={page}")).await,
            (StatusCode::NOT_FOUND, json!({"detail": "Invalid page."})),
            "page={page}"
        );
    }
}

async fn unknown_creation_dates_come_last_and_ties_go_by_id(app: TestApp) {
    let mut same_day = Vec::new();
    for i in 0..3 {
        same_day.push(
            seed::developer(
                &app.db,
                Dev {
                    created_at: at("2021-05-05T00:00:00Z"),
                    ..seed::dev(10 + i, &format!("tie{i}"))
                },
            )
            .await,
        );
    }
    seed::developer(&app.db, seed::dev(1, "unknown")).await;
    seed::developer(
        &app.db,
        Dev {
            created_at: at("2019-01-01T00:00:00Z"),
            ..seed::dev(2, "old")
        },
    )
    .await;
    let (_, body) = app.json("/github/developers/").await;
    let ids: Vec<String> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    same_day.sort();
    let expected: Vec<String> = same_day.iter().map(ToString::to_string).collect();
    assert_eq!(ids[..3], expected[..]);
    assert_eq!(logins(&body)[3..], ["old", "unknown"]);
}

backend_tests!(
    an_empty_table_still_has_page_one,
    pages_link_to_their_neighbours,
    links_keep_other_parameters_sorted,
    invalid_pages_are_404,
    unknown_creation_dates_come_last_and_ties_go_by_id,
    large_counts_are_remembered_and_small_ones_stay_exact,
);

/// With `count_cache_rows` 3: a filter that matched 3 keeps its count while a fourth
/// arrives (the page shows it), a filter that matched 2 is counted again, and so is the
/// whole table.
async fn large_counts_are_remembered_and_small_ones_stay_exact(db: TestDb) {
    let app = TestApp::start(db, |config| {
        config.count_cache_rows = 3;
        config.count_cache_seconds = 3_600;
    })
    .await;
    let located = |n: i64, location: &str| {
        seed::developer(
            &app.db,
            Dev {
                location: Some(location.to_owned()),
                ..seed::dev(n, &format!("dev{n:02}"))
            },
        )
    };
    for (n, location) in [
        (1, "Berlin"),
        (2, "Berlin"),
        (3, "Berlin"),
        (4, "Lisbon"),
        (5, "Lisbon"),
    ] {
        located(n, location).await;
    }
    let count = |query: &'static str| {
        let request = app.json(query);
        async move {
            let (status, body) = request.await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            (
                body["count"].as_i64().unwrap(),
                body["results"].as_array().unwrap().len(),
            )
        }
    };
    assert_eq!(count("/github/developers/?location=Berlin").await, (3, 3));
    assert_eq!(count("/github/developers/?location=Lisbon").await, (2, 2));
    located(6, "Berlin").await;
    located(7, "Lisbon").await;
    assert_eq!(count("/github/developers/?location=Berlin").await, (3, 4));
    assert_eq!(
        count("/github/developers/?location=Berlin&page=last").await,
        (3, 4),
        "the last page is found by the remembered count"
    );
    assert_eq!(count("/github/developers/?location=Lisbon").await, (3, 3));
    assert_eq!(count("/github/developers/").await, (7, 7));
}
