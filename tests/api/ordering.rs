//! `?ordering=` and `?search=` on the lists, as DRF's `OrderingFilter` and `SearchFilter`
//! have them: stable across pages, combined with each other and with every filter, and a
//! 400 naming an unknown ordering field.

use gitomatic::db::developers::{
    DEVELOPER_SEARCH, DEVELOPERS, DeveloperProfile, DeveloperRow, ProfileRecord,
    upsert_profiles_stmt,
};
use gitomatic::db::filter::Condition;
use gitomatic::db::keyset::{KeyType, Keyed, Keyset};
use gitomatic::db::probe::Probing;
use gitomatic::db::{Pool, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, backend_tests};
use crate::seed::{self, Dev, Repo};

backend_tests!(
    an_ordering_walks_every_page_once_in_order_either_way,
    several_fields_order_in_turn,
    search_filters_and_ordering_combine,
    repositories_order_and_search_by_their_own_fields,
    the_search_follows_every_write_of_a_record,
    a_search_page_probed_row_by_row_is_the_page_collected,
    an_unknown_ordering_field_is_named_in_a_400,
    cursor_pages_neither_repeat_nor_skip_while_records_are_inserted,
    cursor_pages_walk_back_as_they_walked_forth,
    a_bad_cursor_is_a_404,
);

/// Every page of `query`, in order: each record once.
async fn walk(app: &TestApp, query: &str) -> Vec<Value> {
    walk_by(
        app,
        &format!("/github/developers/{query}"),
        "next",
        |_| async {},
    )
    .await
}

/// The pages from `path` on, following each page's `link` (`next` or `previous`), and
/// calling `between` with the number of pages read before reading the next.
async fn walk_by<F: Future<Output = ()>>(
    app: &TestApp,
    path: &str,
    link: &str,
    between: impl Fn(usize) -> F,
) -> Vec<Value> {
    let mut records = Vec::new();
    let mut next = Some(path.to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        let (status, page) = app.json(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        records.extend(page["results"].as_array().unwrap().iter().cloned());
        let origin = app.url("");
        next = page[link]
            .as_str()
            .map(|url| url.strip_prefix(&origin).unwrap_or(url).to_owned());
        pages += 1;
        between(pages).await;
    }
    records
}

fn field<'a>(records: &'a [Value], name: &str) -> Vec<&'a str> {
    records.iter().map(|r| r[name].as_str().unwrap()).collect()
}

/// 25 developers over three pages: followers counts with ties and nulls (profiles not
/// synced yet).
async fn twenty_five(app: &TestApp) {
    for n in 0..25_i64 {
        let followers = (n % 4 != 3).then_some(n % 5);
        seed::developer(
            &app.db,
            Dev {
                followers_count: followers,
                ..seed::dev(n + 1, &format!("dev{n:02}"))
            },
        )
        .await;
    }
}

async fn an_ordering_walks_every_page_once_in_order_either_way(app: TestApp) {
    twenty_five(&app).await;
    let descending = walk(&app, "?ordering=-followers_count").await;
    assert_eq!(descending.len(), 25);
    let key = |r: &Value| {
        (
            r["followers_count"].as_i64(),
            r["id"].as_str().unwrap().to_owned(),
        )
    };
    let keys: Vec<_> = descending.iter().map(key).collect();
    let mut expected = keys.clone();
    // Most followers first, ties by id, nulls last.
    expected.sort_by(|(a, a_id), (b, b_id)| match (a, b) {
        (Some(a), Some(b)) => b.cmp(a).then(a_id.cmp(b_id)),
        (None, None) => a_id.cmp(b_id),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
    });
    assert_eq!(keys, expected);
    assert!(keys[..19].iter().all(|(count, _)| count.is_some()));

    let mut ascending = walk(&app, "?ordering=followers_count").await;
    ascending.reverse();
    assert_eq!(
        field(&ascending, "id"),
        field(&descending, "id"),
        "the exact reverse"
    );
}

async fn several_fields_order_in_turn(app: TestApp) {
    twenty_five(&app).await;
    let records = walk(&app, "?ordering=-followers_count,-login").await;
    let pairs: Vec<(Option<i64>, &str)> = records
        .iter()
        .map(|r| (r["followers_count"].as_i64(), r["login"].as_str().unwrap()))
        .collect();
    let mut expected = pairs.clone();
    expected.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => y.cmp(&x).then(b.1.cmp(a.1)),
        (None, None) => b.1.cmp(a.1),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
    });
    assert_eq!(pairs, expected);
}

async fn search_filters_and_ordering_combine(app: TestApp) {
    let people = [
        ("ada", Some("Berlin"), Some("Rust and maths"), 30),
        ("bob", Some("berlin, Germany"), Some("RUST compilers"), 50),
        ("cyd", Some("Paris"), Some("rust"), 90),
        ("dee", Some("Berlin"), Some("Go"), 70),
        ("eve", None, None, 10),
    ];
    for (n, (login, location, bio, followers)) in people.into_iter().enumerate() {
        seed::developer(
            &app.db,
            Dev {
                location: location.map(str::to_owned),
                bio: bio.map(str::to_owned),
                followers_count: Some(followers),
                ..seed::dev(n as i64 + 1, login)
            },
        )
        .await;
    }
    let cases = [
        // Every term, in any field, in any case.
        (
            "search=rust+berlin&ordering=-followers_count",
            vec!["bob", "ada"],
        ),
        (
            "search=RUST&ordering=followers_count",
            vec!["ada", "bob", "cyd"],
        ),
        ("search=rust,paris", vec!["cyd"]),
        ("search=%25", vec![]),
        (
            "search=+,+&ordering=login",
            vec!["ada", "bob", "cyd", "dee", "eve"],
        ),
        // `location__contains` is case-sensitive, as the other `__contains` are.
        (
            "location__contains=Berlin&ordering=-followers_count",
            vec!["dee", "ada"],
        ),
        ("location__contains=Berlin&search=rust", vec!["ada"]),
        // Spaces and punctuation are part of a substring; two letters are too short for
        // SQLite's trigram index, and are looked for in every row.
        ("location__contains=n,+G", vec!["bob"]),
        ("location__contains=Pa", vec!["cyd"]),
        ("search=is&ordering=login", vec!["cyd"]),
        // Quotes are text to find, not the index's query syntax.
        ("search=%22rust%22", vec![]),
        ("location__contains=%22Berlin", vec![]),
        (
            "search=ber&followers_count__gte=40&ordering=login",
            vec!["bob", "dee"],
        ),
    ];
    for (query, expected) in cases {
        let records = walk(&app, &format!("?{query}")).await;
        assert_eq!(field(&records, "login"), expected, "{query}");
    }
}

/// On SQLite a page of a search can ask its index row by row in the page's order (a term
/// matching many rows) or collect every match first (few): the two find the same rows, in
/// the same order, for any filter, ordering and depth, deep pages' join included.
async fn a_search_page_probed_row_by_row_is_the_page_collected(app: TestApp) {
    for n in 0..120_i64 {
        let bio = ["writes code", "Rust and code", "maths"][n as usize % 3];
        seed::developer(
            &app.db,
            Dev {
                location: (n % 4 == 0).then(|| "Berlin, Germany".to_owned()),
                bio: Some(bio.to_owned()),
                followers_count: (n % 9 != 0).then_some(n % 7),
                ..seed::dev(n + 1, &format!("dev{n:03}"))
            },
        )
        .await;
    }
    let code = || Condition::Matches {
        columns: DEVELOPER_SEARCH,
        term: "code".to_owned(),
    };
    let berlin = || Condition::Contains {
        column: "location",
        needle: "Berlin".to_owned(),
    };
    let filters = [vec![code()], vec![berlin()], vec![code(), berlin()]];
    let orders = [
        "followers_count DESC NULLS LAST, id",
        "login, id",
        DEVELOPERS.order_by,
    ];
    let db = &app.db;
    for conditions in &filters {
        let collecting = db.where_clause("developers", conditions);
        let Some(probing) = db.probing_clause("developers", conditions) else {
            let sqlite = matches!(db.pool(), Pool::Sqlite(_));
            assert!(!sqlite, "SQLite's lookups can be probed: {conditions:?}");
            continue;
        };
        for order in orders {
            for offset in [0, 10, 35, 1_000] {
                let ids = |rows: Vec<DeveloperRow>| rows.into_iter().map(|r| r.id).collect();
                let collected: Vec<_> = ids(db
                    .page(&DEVELOPERS, &collecting, order, 10, offset)
                    .await
                    .unwrap());
                // A budget of hours: the probes run to their end.
                let probing = Some(Probing {
                    filter: &probing,
                    count: i64::MAX,
                });
                let probed: Vec<_> = ids(db
                    .probed_page(&DEVELOPERS, (&collecting, probing), order, 10, offset)
                    .await
                    .unwrap());
                assert_eq!(probed, collected, "{conditions:?} {order} {offset}");
                assert!(offset > 10 || !collected.is_empty(), "{conditions:?}");
            }
        }
        // Cursor pages too: the first, and one that starts inside a run of ties.
        for (field, key_type, descending) in [
            ("followers_count", KeyType::Int, true),
            ("login", KeyType::Text, false),
        ] {
            let mut keyset = Keyset {
                field,
                key_type,
                descending,
                after: None,
            };
            let probing = Some(Probing {
                filter: &probing,
                count: i64::MAX,
            });
            let keys = |rows: Vec<Keyed<DeveloperRow>>| -> Vec<_> {
                rows.into_iter()
                    .map(|r| (r.extra.cursor_key, r.row.id))
                    .collect()
            };
            for _ in 0..2 {
                let collected = keys(
                    db.keyset_page(&DEVELOPERS, (&collecting, None), &keyset, 11)
                        .await
                        .unwrap(),
                );
                let probed = keys(
                    db.keyset_page(&DEVELOPERS, (&collecting, probing), &keyset, 11)
                        .await
                        .unwrap(),
                );
                assert_eq!(probed, collected, "{conditions:?} {field}");
                keyset.after = collected.get(6).cloned();
                assert!(keyset.after.is_some(), "{conditions:?} {field}");
            }
        }
    }
}

/// A profile written again as a sync writes it (the store's upsert) is found by what it says
/// now, and no longer by what it said.
async fn the_search_follows_every_write_of_a_record(app: TestApp) {
    let profile = |location: &str, bio: &str, followers: i64| ProfileRecord {
        github_id: 7,
        login: "ada".to_owned(),
        node_id: None,
        profile: DeveloperProfile {
            location: Some(location.to_owned()),
            bio: Some(bio.to_owned()),
            followers_count: Some(followers),
            ..DeveloperProfile::default()
        },
        disk_usage: None,
        raw: json!({"id": 7, "login": "ada"}),
    };
    let write = |record: ProfileRecord| {
        let statements: Vec<_> = upsert_profiles_stmt(&[record], Timestamp::now())
            .into_iter()
            .collect();
        let db = app.db.clone();
        async move { db.run_in_transaction(&statements).await.unwrap() }
    };
    let found = |query: &'static str| {
        let app = &app;
        async move { field(&walk(app, query).await, "login").join(",") }
    };
    write(profile("Berlin", "Rust compilers", 1)).await;
    assert_eq!(found("?search=compil").await, "ada");
    assert_eq!(found("?location__contains=Berlin").await, "ada");
    write(profile("Lisbon", "Haskell", 2)).await;
    for gone in [
        "?search=compil",
        "?search=berlin",
        "?location__contains=Berlin",
    ] {
        assert_eq!(found(gone).await, "", "{gone}");
    }
    assert_eq!(found("?search=haskell+lisbon").await, "ada");
    assert_eq!(found("?location__contains=Lisbon").await, "ada");
    // A write that changes nothing searched leaves her found.
    write(profile("Lisbon", "Haskell", 3)).await;
    assert_eq!(found("?search=haskell&followers_count=3").await, "ada");
}

async fn repositories_order_and_search_by_their_own_fields(app: TestApp) {
    let owner = seed::developer(&app.db, seed::dev(1, "octo")).await;
    let repos = [
        ("tool", Some("Go"), Some("A fast tool"), Some(5)),
        ("gizmo", Some("Rust"), Some("tooling for gizmos"), Some(50)),
        ("thing", Some("Go"), None, None),
    ];
    for (n, (name, language, description, stars)) in repos.into_iter().enumerate() {
        seed::repository(
            &app.db,
            Repo {
                language: language.map(str::to_owned),
                description: description.map(str::to_owned),
                stargazers_count: stars,
                ..seed::repo(n as i64 + 10, (owner, 1, "octo"), name)
            },
        )
        .await;
    }
    for (query, expected) in [
        ("ordering=-stargazers_count", vec!["gizmo", "tool", "thing"]),
        ("ordering=stargazers_count", vec!["thing", "tool", "gizmo"]),
        ("ordering=-name", vec!["tool", "thing", "gizmo"]),
        ("search=TOOL&ordering=full_name", vec!["gizmo", "tool"]),
        (
            "search=go&ordering=-stargazers_count",
            vec!["tool", "thing"],
        ),
        ("language=Go&search=FAST", vec!["tool"]),
        ("search=octo/t&ordering=name", vec!["thing", "tool"]),
    ] {
        let (status, page) = app.json(&format!("/github/repositories/?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        let results = page["results"].as_array().unwrap();
        assert_eq!(field(results, "name"), expected, "{query}");
    }
}

async fn an_unknown_ordering_field_is_named_in_a_400(app: TestApp) {
    let (status, body) = app
        .json("/github/developers/?ordering=-followers_count,-stars")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = body["ordering"][0].as_str().unwrap();
    assert!(message.contains("\"-stars\""), "{message}");
    assert!(message.contains("followers_count"), "{message}");
    // A repository field is no developer's.
    let (status, _) = app
        .json("/github/developers/?ordering=stargazers_count")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = app.json("/github/repositories/?ordering=login").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["ordering"]
    );
    for query in ["ordering=,", "ordering=login,", "ordering=%20login"] {
        let (status, body) = app.json(&format!("/github/developers/?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
    }
    assert_eq!(
        app.json("/github/developers/?ordering=").await.0,
        StatusCode::OK,
        "empty, as every parameter: the list's own order"
    );
}

async fn cursor_pages_neither_repeat_nor_skip_while_records_are_inserted(app: TestApp) {
    twenty_five(&app).await;
    let (_, first) = app
        .json("/github/developers/?ordering=-followers_count&cursor=")
        .await;
    assert!(
        first.get("count").is_none(),
        "cursor pages do not count: {first}"
    );
    assert!(first["previous"].is_null());
    // Between pages, records come in everywhere in the order: before the walk's position,
    // after it, and among the nulls.
    let db = &app.db;
    let walked = walk_by(
        &app,
        "/github/developers/?ordering=-followers_count&cursor=",
        "next",
        |pages| async move {
            for n in 0..3_i64 {
                let id = 100 + pages as i64 * 10 + n;
                let followers = [Some(9), Some(2), None][n as usize];
                let dev = Dev {
                    followers_count: followers,
                    ..seed::dev(id, &format!("new{id}"))
                };
                seed::developer(db, dev).await;
            }
        },
    )
    .await;
    let logins = field(&walked, "login");
    let mut unique = logins.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), logins.len(), "no record twice: {logins:?}");
    for n in 0..25 {
        let login = format!("dev{n:02}");
        assert!(logins.contains(&login.as_str()), "{login} skipped");
    }
    let counts: Vec<Option<i64>> = walked
        .iter()
        .map(|r| r["followers_count"].as_i64())
        .collect();
    let mut sorted = counts.clone();
    sorted.sort_by(|a, b| match (a, b) {
        (Some(a), Some(b)) => b.cmp(a),
        (a, b) => b.is_some().cmp(&a.is_some()),
    });
    assert_eq!(counts, sorted, "in order all the way");
}

async fn cursor_pages_walk_back_as_they_walked_forth(app: TestApp) {
    twenty_five(&app).await;
    for ordering in ["-followers_count", "followers_count", "login", ""] {
        let start = format!("/github/developers/?ordering={ordering}&cursor=");
        let forth = walk_by(&app, &start, "next", |_| async {}).await;
        assert_eq!(forth.len(), 25, "{ordering}");
        let paged = walk(&app, &format!("?ordering={ordering}")).await;
        assert_eq!(
            field(&forth, "id"),
            field(&paged, "id"),
            "{ordering}: as pages"
        );
        // From the last page back to the first.
        let mut path = start.clone();
        let last = loop {
            let (_, page) = app.json(&path).await;
            match page["next"].as_str() {
                Some(next) => path = next.strip_prefix(&app.url("")).unwrap().to_owned(),
                None => break page,
            }
        };
        let mut back: Vec<Value> = last["results"].as_array().unwrap().clone();
        let previous = last["previous"].as_str().unwrap();
        let previous = previous.strip_prefix(&app.url("")).unwrap();
        let mut before = walk_by(&app, previous, "previous", |_| async {}).await;
        // Each page is in the order; the pages come last to first.
        let mut pages: Vec<Vec<Value>> = before.chunks(10).map(<[Value]>::to_vec).collect();
        pages.reverse();
        before = pages.concat();
        before.append(&mut back);
        assert_eq!(
            field(&before, "id"),
            field(&forth, "id"),
            "{ordering}: back again"
        );
    }
}

/// A cursor as the links write one, at `value` of `field`.
fn tampered(field: &str, value: &str) -> String {
    use base64::Engine;
    let position = serde_json::json!({"f": field, "v": value, "id": uuid::Uuid::nil()});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(position.to_string())
}

async fn a_bad_cursor_is_a_404(app: TestApp) {
    twenty_five(&app).await;
    let (_, first) = app.json("/github/developers/?ordering=login&cursor=").await;
    let next = first["next"].as_str().unwrap();
    let cursor = next
        .split("cursor=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    for query in [
        "cursor=nonsense".to_owned(),
        "cursor=e30".to_owned(),
        // A cursor of one ordering is no position in another.
        format!("cursor={cursor}&ordering=-followers_count"),
        // Nor one whose value the field cannot have (PostgreSQL would fail to read it).
        format!(
            "cursor={}&ordering=-followers_count",
            tampered("followers_count", "many")
        ),
        format!("cursor={}", tampered("created_at", "yesterday")),
    ] {
        let (status, body) = app.json(&format!("/github/developers/?{query}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{query}: {body}");
        assert_eq!(body["detail"], "Invalid cursor.", "{query}");
    }
    // Cursor pages are ordered by the first field: its cursor goes on with more fields.
    let (status, page) = app
        .json(&format!(
            "/github/developers/?cursor={cursor}&ordering=login,-followers_count"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["results"][0]["login"], "dev10");
}
