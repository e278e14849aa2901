//! The compat shapes of developers and repositories, their relations and sub-collections,
//! and the number of SQL statements a page costs.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, backend_tests};
use crate::seed::{self, Dev, Repo, at};

struct Graph {
    ada: Uuid,
    bob: Uuid,
    cyd: Uuid,
    engine: Uuid,
    loom: Uuid,
}

/// ada owns engine and loom; bob and cyd follow ada; ada follows bob; bob and cyd star engine.
async fn graph(app: &TestApp) -> Graph {
    let ada = seed::developer(
        &app.db,
        Dev {
            name: Some("Ada".into()),
            location: Some("London".into()),
            email: Some("ada@example.com".into()),
            created_at: at("2015-10-23T16:17:42Z"),
            updated_at: at("2020-10-02T19:21:25Z"),
            followers_count: Some(2),
            following_count: Some(1),
            public_gists: Some(7),
            public_repos: Some(2),
            synced_at: at("2026-11-22T03:00:00.123456Z"),
            ..seed::dev(15_267_120, "ada")
        },
    )
    .await;
    let bob = seed::developer(&app.db, seed::dev(2, "bob")).await;
    let cyd = seed::developer(&app.db, seed::dev(3, "cyd")).await;
    let engine = seed::repository(
        &app.db,
        Repo {
            description: Some("Difference engine".into()),
            homepage: Some(String::new()),
            language: Some("Rust".into()),
            created_at: at("2020-09-29T09:20:44Z"),
            stargazers_count: Some(2),
            subscribers_count: Some(1),
            ..seed::repo(299_566_089, (ada, 15_267_120, "ada"), "engine")
        },
    )
    .await;
    let loom = seed::repository(
        &app.db,
        seed::repo(299_566_090, (ada, 15_267_120, "ada"), "loom"),
    )
    .await;
    seed::follow(&app.db, bob, ada).await;
    seed::follow(&app.db, cyd, ada).await;
    seed::follow(&app.db, ada, bob).await;
    seed::star(&app.db, bob, engine).await;
    seed::star(&app.db, cyd, engine).await;
    Graph {
        ada,
        bob,
        cyd,
        engine,
        loom,
    }
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

async fn a_developer_reads_exactly_as_the_original(app: TestApp) {
    let g = graph(&app).await;
    let a = &app.address;
    let dev = |id: Uuid| format!("{a}/github/developers/{id}/");
    let repo = |id: Uuid| format!("{a}/github/repositories/{id}/");
    let (status, body) = app.json(&format!("/github/developers/{}/", g.ada)).await;
    assert_eq!(status, StatusCode::OK);
    let expected = json!({
        "id": g.ada.to_string(),
        "url": dev(g.ada),
        "github_id": "15267120",
        "login": "ada",
        "name": "Ada",
        "location": "London",
        "bio": null,
        "company": null,
        "email": "ada@example.com",
        "created_at": "2015-10-23T16:17:42Z",
        "updated_at": "2020-10-02T19:21:25Z",
        "followers_count": 2,
        "following_count": 1,
        "public_gists": 7,
        "public_repos": 2,
        "followers": sorted(vec![g.bob, g.cyd]).into_iter().map(dev).collect::<Vec<_>>(),
        "following": [dev(g.bob)],
        "starred_repositories": [],
        "repositories": sorted(vec![g.engine, g.loom]).into_iter().map(repo).collect::<Vec<_>>(),
        // The seeded repositories have no size.
        "repositories_size": null,
        "github_repositories_size": null,
        "synced_at": "2026-11-22T03:00:00.123456Z",
        "gone_at": null,
    });
    assert_eq!(body, expected);
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    let expected_keys: Vec<&String> = expected.as_object().unwrap().keys().collect();
    assert_eq!(keys, expected_keys, "field order is part of the contract");
}

async fn a_repository_reads_exactly_as_the_original(app: TestApp) {
    let g = graph(&app).await;
    let a = &app.address;
    let (_, body) = app
        .json(&format!("/github/repositories/{}/", g.engine))
        .await;
    let mut stargazers = [g.bob, g.cyd];
    stargazers.sort();
    let expected = json!({
        "id": g.engine.to_string(),
        "url": format!("{a}/github/repositories/{}/", g.engine),
        "owner": format!("{a}/github/developers/{}/", g.ada),
        "github_id": "299566089",
        "owner_github_id": "15267120",
        "name": "engine",
        "full_name": "ada/engine",
        "description": "Difference engine",
        "homepage": "",
        "language": "Rust",
        "created_at": "2020-09-29T09:20:44Z",
        "updated_at": null,
        "has_downloads": true,
        "has_issues": true,
        "has_pages": false,
        "has_projects": true,
        "has_wiki": null,
        "private": null,
        "archived": null,
        "disabled": false,
        "stargazers": stargazers.iter().map(|id| format!("{a}/github/developers/{id}/")).collect::<Vec<_>>(),
        "stargazers_count": 2,
        "subscribers_count": 1,
        "watchers_count": 2,
        "open_issues_count": 0,
        "size": null,
        "synced_at": null,
        "gone_at": null,
        "blocked_at": null,
        "stargazers_truncated": false,
    });
    assert_eq!(body, expected);
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    let expected_keys: Vec<&String> = expected.as_object().unwrap().keys().collect();
    assert_eq!(keys, expected_keys);
}

async fn the_lists_hanging_off_a_record_are_paginated_collections(app: TestApp) {
    let g = graph(&app).await;
    let count = |body: &Value| body["count"].as_i64().unwrap();
    let logins = |body: &Value| {
        let mut l: Vec<String> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["login"].as_str().unwrap().to_owned())
            .collect();
        l.sort();
        l
    };
    let (_, followers) = app
        .json(&format!("/github/developers/{}/followers/", g.ada))
        .await;
    assert_eq!(logins(&followers), ["bob", "cyd"]);
    let (_, filtered) = app
        .json(&format!(
            "/github/developers/{}/followers/?login=cyd",
            g.ada
        ))
        .await;
    assert_eq!(logins(&filtered), ["cyd"]);
    let (_, following) = app
        .json(&format!("/github/developers/{}/following/", g.ada))
        .await;
    assert_eq!(logins(&following), ["bob"]);
    let (_, starred) = app
        .json(&format!(
            "/github/developers/{}/starred_repositories/",
            g.bob
        ))
        .await;
    assert_eq!(starred["results"][0]["name"], "engine");
    let (_, owned) = app
        .json(&format!("/github/developers/{}/repositories/", g.ada))
        .await;
    assert_eq!(count(&owned), 2);
    let (_, stargazers) = app
        .json(&format!("/github/repositories/{}/stargazers/", g.engine))
        .await;
    assert_eq!(logins(&stargazers), ["bob", "cyd"]);
    let (_, none) = app
        .json(&format!("/github/repositories/{}/stargazers/", g.loom))
        .await;
    assert_eq!(
        none,
        json!({"count": 0, "next": null, "previous": null, "results": []})
    );
    let (status, _) = app
        .json(&format!("/github/repositories/{}/stargazers/", g.ada))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a developer's id is no repository"
    );
}

async fn links_true_adds_links_and_nothing_else_changes(app: TestApp) {
    let g = graph(&app).await;
    let (_, plain) = app.json(&format!("/github/developers/{}/", g.ada)).await;
    let (_, linked) = app
        .json(&format!("/github/developers/{}/?links=true", g.ada))
        .await;
    let a = &app.address;
    assert_eq!(
        linked["_links"],
        json!({
            "self": {"href": format!("{a}/github/developers/{}/", g.ada)},
            "followers": {"href": format!("{a}/github/developers/{}/followers/", g.ada)},
            "following": {"href": format!("{a}/github/developers/{}/following/", g.ada)},
            "starred_repositories": {"href": format!("{a}/github/developers/{}/starred_repositories/", g.ada)},
            "repositories": {"href": format!("{a}/github/developers/{}/repositories/", g.ada)},
        })
    );
    let mut without = linked.clone();
    without.as_object_mut().unwrap().remove("_links");
    assert_eq!(without, plain);
    let (_, repo) = app
        .json(&format!("/github/repositories/{}/?links=1", g.engine))
        .await;
    assert_eq!(
        repo["_links"]["stargazers"]["href"],
        json!(format!("{a}/github/repositories/{}/stargazers/", g.engine))
    );
}

async fn embed_renders_related_records_as_first_pages(app: TestApp) {
    let g = graph(&app).await;
    let (_, plain) = app.json(&format!("/github/developers/{}/", g.ada)).await;
    let (status, body) = app
        .json(&format!("/github/developers/{}/?embed=1", g.ada))
        .await;
    assert_eq!(status, StatusCode::OK);
    let embedded = &body["_embedded"];
    assert_eq!(embedded["followers"]["count"], 2);
    assert_eq!(embedded["followers"]["next"], Value::Null);
    let follower_urls: Vec<&str> = embedded["followers"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["url"].as_str().unwrap())
        .collect();
    let mut expected = plain["followers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect::<Vec<_>>();
    expected.sort_unstable();
    let mut got = follower_urls.clone();
    got.sort_unstable();
    assert_eq!(got, expected, "the embedded followers are the followers");
    assert_eq!(embedded["repositories"]["count"], 2);
    assert_eq!(
        embedded["starred_repositories"],
        json!({"count": 0, "next": null, "previous": null, "results": []})
    );
    assert!(
        embedded["followers"]["results"][0]
            .get("_embedded")
            .is_none(),
        "one level only"
    );

    let (_, deep) = app
        .json(&format!("/github/developers/{}/?embed=2", g.ada))
        .await;
    let engine = deep["_embedded"]["repositories"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "engine")
        .unwrap()
        .clone();
    assert_eq!(engine["_embedded"]["stargazers"]["count"], 2);
    assert_eq!(engine["_embedded"]["owner"]["login"], "ada");
    assert!(
        engine["_embedded"]["owner"].get("_embedded").is_none(),
        "two levels only"
    );

    let (_, repo) = app
        .json(&format!("/github/repositories/{}/?embed=1", g.engine))
        .await;
    assert_eq!(repo["_embedded"]["owner"]["id"], json!(g.ada.to_string()));
    let mut without = repo.clone();
    without.as_object_mut().unwrap().remove("_embedded");
    let (_, plain_repo) = app
        .json(&format!("/github/repositories/{}/", g.engine))
        .await;
    assert_eq!(without, plain_repo, "embedding adds, never changes");

    for bad in ["0", "4", "two"] {
        assert_eq!(
            app.json(&format!("/github/developers/?embed={bad}")).await,
            (
                StatusCode::BAD_REQUEST,
                json!({"embed": ["Enter a whole number from 1 to 3."]})
            ),
            "embed={bad}"
        );
    }
}

async fn embedded_lists_link_to_the_rest(app: TestApp) {
    let star = seed::developer(&app.db, seed::dev(1, "star")).await;
    for i in 0..12 {
        let fan = seed::developer(&app.db, seed::dev(100 + i, &format!("fan{i:02}"))).await;
        seed::follow(&app.db, fan, star).await;
    }
    let (_, body) = app
        .json(&format!("/github/developers/{star}/?embed=1&format=json"))
        .await;
    let followers = &body["_embedded"]["followers"];
    assert_eq!(followers["count"], 12);
    assert_eq!(followers["results"].as_array().unwrap().len(), 10);
    assert_eq!(
        followers["next"],
        json!(format!(
            "{}/github/developers/{star}/followers/?format=json&page=2",
            app.address
        ))
    );
    let (_, page_one) = app
        .json(&format!("/github/developers/{star}/followers/?format=json"))
        .await;
    assert_eq!(
        followers["results"], page_one["results"],
        "the embedded list is the first page"
    );
}

async fn deep_embedding_stays_within_its_budget(app: TestApp) {
    let mut people = Vec::new();
    for i in 0..15 {
        people.push(seed::developer(&app.db, seed::dev(i + 1, &format!("p{i:02}"))).await);
    }
    for a in &people {
        for b in &people {
            if a != b {
                seed::follow(&app.db, *a, *b).await;
            }
        }
    }
    fn embedded_records(value: &Value) -> usize {
        let Some(embedded) = value.get("_embedded") else {
            return 0;
        };
        embedded
            .as_object()
            .unwrap()
            .values()
            .flat_map(|list| list["results"].as_array().cloned().unwrap_or_default())
            .map(|record| 1 + embedded_records(&record))
            .sum()
    }
    let before = app.db.statements_run();
    let (status, body) = app.json("/github/developers/?embed=3").await;
    let spent = app.db.statements_run() - before;
    assert_eq!(status, StatusCode::OK);
    let total: usize = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(embedded_records)
        .sum();
    assert_eq!(
        total,
        10 * 2 * 10,
        "the first level fits; the next would pass the budget"
    );
    assert!(total <= 1_000);
    assert!(spent <= 30, "{spent} statements");
}

/// `value` without the keys `names`.
fn without(value: &Value, names: &[&str]) -> Value {
    let mut value = value.clone();
    let object = value.as_object_mut().unwrap();
    names.iter().for_each(|name| {
        object.remove(*name);
    });
    value
}

async fn omit_leaves_lists_out_unread_and_nothing_else_changes(app: TestApp) {
    let g = graph(&app).await;
    let list = "/github/developers/?ordering=-followers_count";
    let (_, plain) = app.json(list).await;
    let (status, omitted) = app.json(&format!("{list}&omit=followers,following")).await;
    assert_eq!(status, StatusCode::OK);
    let results = plain["results"].as_array().unwrap();
    let expected: Vec<Value> = results
        .iter()
        .map(|record| without(record, &["followers", "following"]))
        .collect();
    assert_eq!(omitted["results"], json!(expected));
    assert_eq!(omitted["count"], plain["count"]);
    let (_, empty) = app.json(&format!("{list}&omit=")).await;
    assert_eq!(empty, plain, "an empty omit leaves out nothing");

    // A list left out is not read: the detail costs one statement fewer.
    let detail = format!("/github/developers/{}/", g.ada);
    app.json(&detail).await;
    let app = &app;
    let spent = |path: String| async move {
        let before = app.db.statements_run();
        let (status, body) = app.json(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        (app.db.statements_run() - before, body)
    };
    let (all, full) = spent(detail.clone()).await;
    let four = "followers,following,starred_repositories,repositories";
    let (fewer, bare) = spent(format!("{detail}?omit={four}")).await;
    assert_eq!(fewer, all - 1, "the relations' query is not run");
    let lists = [
        "followers",
        "following",
        "starred_repositories",
        "repositories",
    ];
    assert_eq!(bare, without(&full, &lists));

    // Each record of an answer leaves out its own lists, the embedded ones too.
    let (_, embedded) = app.json(&format!("{detail}?embed=1&omit=stargazers")).await;
    assert_eq!(embedded["followers"], full["followers"]);
    let owned = embedded["_embedded"]["repositories"]["results"]
        .as_array()
        .unwrap();
    assert_eq!(owned.len(), 2);
    assert!(
        owned
            .iter()
            .all(|repo| repo.get("stargazers").is_none() && repo["url"].is_string())
    );
    let repository = format!("/github/repositories/{}/", g.engine);
    let (_, engine) = app.json(&repository).await;
    assert_eq!(engine["stargazers"].as_array().unwrap().len(), 2);
    let (_, starless) = app.json(&format!("{repository}?omit=stargazers")).await;
    assert_eq!(starless, without(&engine, &["stargazers"]));

    let (status, body) = app.json("/github/developers/?omit=followers,bio").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"omit": ["Cannot omit \"bio\". Choose from: followers, following, \
            starred_repositories, repositories, stargazers."]})
    );
}

async fn a_page_costs_a_constant_number_of_statements(app: TestApp) {
    let hub = seed::developer(&app.db, seed::dev(1, "hub")).await;
    let mut repos = Vec::new();
    for i in 0..10 {
        repos.push(
            seed::repository(
                &app.db,
                seed::repo(100 + i, (hub, 1, "hub"), &format!("r{i}")),
            )
            .await,
        );
    }
    for i in 0..30 {
        let dev = seed::developer(&app.db, seed::dev(10 + i, &format!("d{i}"))).await;
        seed::follow(&app.db, dev, hub).await;
        seed::follow(&app.db, hub, dev).await;
        seed::star(&app.db, dev, repos[(i % 10) as usize]).await;
    }
    app.get_auth("/github/").await; // warm the credential cache: it is what the bound is about
    app.get_auth("/github/developers/").await;
    for path in [
        "/github/developers/".to_owned(),
        "/github/developers/?page=2&login__gte=d".to_owned(),
        "/github/repositories/".to_owned(),
        format!("/github/developers/{hub}/"),
        format!("/github/developers/{hub}/followers/"),
        format!("/github/repositories/{}/", repos[0]),
    ] {
        let before = app.db.statements_run();
        let (status, _) = app.json(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let spent = app.db.statements_run() - before;
        assert!((3..=6).contains(&spent), "{path} ran {spent} statements");
    }
}

backend_tests!(
    a_developer_reads_exactly_as_the_original,
    a_repository_reads_exactly_as_the_original,
    the_lists_hanging_off_a_record_are_paginated_collections,
    links_true_adds_links_and_nothing_else_changes,
    omit_leaves_lists_out_unread_and_nothing_else_changes,
    embed_renders_related_records_as_first_pages,
    embedded_lists_link_to_the_rest,
    deep_embedding_stays_within_its_budget,
    a_page_costs_a_constant_number_of_statements,
);
