//! `/github/export/{format}` and `gitomatic export`: the graph the API serves, whole or in
//! part, in GraphML, NDJSON and CSV.

use std::collections::BTreeSet;

use gitomatic::with_pool;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, ETAG};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, TestDb, backend_tests, gitomatic, run};
use crate::seed::{self, at, dev, repo};

/// A bio no format may mangle: quotes, markup, a comma, a line break, a control character.
const BIO: &str = "He said \"hi\", <b>&</b>\nsecond line\u{1}";

struct Graph {
    alice: Uuid,
    bob: Uuid,
    carol: Uuid,
    dave: Uuid,
    one: Uuid,
    two: Uuid,
}

/// alice → bob → dave, carol → alice (follows); alice owns `one`, bob owns `two`; alice,
/// bob and carol starred `one`. carol and `two` are known only from lists.
async fn seed_graph(app: &TestApp) -> Graph {
    let db = &app.db;
    let synced = at("2024-01-02T03:04:05Z");
    let alice = seed::developer(
        db,
        seed::Dev {
            name: Some("Ålice, A.".into()),
            bio: Some(BIO.into()),
            followers_count: Some(1),
            synced_at: synced,
            created_at: at("2011-01-01T00:00:00.123456Z"),
            ..dev(1, "alice")
        },
    )
    .await;
    let bob = seed::developer(
        db,
        seed::Dev {
            synced_at: synced,
            ..dev(2, "bob")
        },
    )
    .await;
    let carol = seed::developer(db, dev(3, "carol")).await;
    let dave = seed::developer(
        db,
        seed::Dev {
            synced_at: synced,
            ..dev(4, "dave")
        },
    )
    .await;
    let one = seed::repository(db, repo(10, (alice, 1, "alice"), "one")).await;
    let two = seed::repository(db, repo(20, (bob, 2, "bob"), "two")).await;
    with_pool!(db, |pool| sqlx::query(
        "UPDATE repositories SET synced_at = $1 WHERE id = $2"
    )
    .bind(synced)
    .bind(one)
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
    seed::follow(db, alice, bob).await;
    seed::follow(db, bob, dave).await;
    seed::follow(db, carol, alice).await;
    for who in [alice, bob, carol] {
        seed::star(db, who, one).await;
    }
    Graph {
        alice,
        bob,
        carol,
        dave,
        one,
        two,
    }
}

/// Nodes and edges as the API reports them: the lists' counts, and each developer's
/// following, starred repositories and repositories.
pub async fn api_counts(app: &TestApp) -> (usize, usize) {
    let (_, developers) = app.json("/github/developers/?page_size=100").await;
    let (_, repositories) = app.json("/github/repositories/?page_size=100").await;
    let nodes = developers["count"].as_u64().unwrap() + repositories["count"].as_u64().unwrap();
    let mut edges = 0;
    for developer in developers["results"].as_array().unwrap() {
        for list in ["following", "starred_repositories", "repositories"] {
            edges += developer[list].as_array().unwrap().len();
        }
    }
    (usize::try_from(nodes).unwrap(), edges)
}

async fn download(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = app.get_auth(path).await;
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn ndjson(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect()
}

/// The ids of the nodes in an NDJSON export, and its edges as (kind, source, target).
fn ndjson_graph(text: &str) -> (BTreeSet<Uuid>, BTreeSet<(String, Uuid, Uuid)>) {
    let (mut nodes, mut edges) = (BTreeSet::new(), BTreeSet::new());
    for item in ndjson(text) {
        let uuid = |key: &str| item[key].as_str().unwrap().parse::<Uuid>().unwrap();
        match item["type"].as_str().unwrap() {
            "developer" | "repository" => {
                nodes.insert(uuid("id"));
            }
            kind => {
                edges.insert((kind.to_owned(), uuid("source"), uuid("target")));
            }
        }
    }
    (nodes, edges)
}

async fn every_format_holds_the_graph_the_api_reports(app: TestApp) {
    let graph = seed_graph(&app).await;
    let (nodes, edges) = api_counts(&app).await;
    assert_eq!((nodes, edges), (6, 8));

    let (status, headers, graphml) = download(&app, "/github/export/graphml").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/graphml+xml")
    );
    assert_eq!(
        headers[CONTENT_DISPOSITION],
        "attachment; filename=\"git-o-matic-9k.graphml\""
    );
    assert!(
        headers.get(ETAG).is_none(),
        "a stream is not held to be hashed"
    );
    assert_eq!(graphml.matches("<node id=").count(), nodes);
    assert_eq!(graphml.matches("<edge source=").count(), edges);
    assert!(graphml.contains(
        "<data key=\"n_bio\">He said &quot;hi&quot;, &lt;b&gt;&amp;&lt;/b&gt;&#10;second line\u{FFFD}</data>"
    ));
    assert!(graphml.contains(&format!(
        "<edge source=\"{}\" target=\"{}\"><data key=\"e_kind\">owns</data></edge>",
        graph.alice, graph.one
    )));
    assert!(graphml.trim_end().ends_with("</graphml>"));

    let (status, headers, text) = download(&app, "/github/export/ndjson").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[CONTENT_TYPE], "application/x-ndjson");
    let items = ndjson(&text);
    assert_eq!(items.len(), nodes + edges);
    let alice = items.iter().find(|i| i["login"] == "alice").unwrap();
    let (_, shown) = app
        .json(&format!("/github/developers/{}/", graph.alice))
        .await;
    for field in [
        "id",
        "github_id",
        "name",
        "bio",
        "created_at",
        "followers_count",
        "email",
    ] {
        let exported = &alice[field];
        let served = &shown[field];
        if field == "github_id" {
            assert_eq!(exported.to_string(), served.as_str().unwrap(), "{field}");
        } else {
            assert_eq!(exported, served, "{field}");
        }
    }
    let (exported_nodes, exported_edges) = ndjson_graph(&text);
    let all = [
        graph.alice,
        graph.bob,
        graph.carol,
        graph.dave,
        graph.one,
        graph.two,
    ];
    assert_eq!(exported_nodes, all.into_iter().collect());
    assert!(exported_edges.contains(&("follows".into(), graph.carol, graph.alice)));
    assert!(exported_edges.contains(&("starred".into(), graph.alice, graph.one)));

    let mut rows = 0;
    for table in ["developers", "repositories", "follows", "owns", "starred"] {
        let (status, headers, text) = download(&app, &format!("/github/export/csv/{table}")).await;
        assert_eq!(status, StatusCode::OK, "{table}");
        assert_eq!(
            headers[CONTENT_DISPOSITION],
            format!("attachment; filename=\"{table}.csv\"").as_str()
        );
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        rows += records.len();
        if table == "developers" {
            let headers = reader.headers().unwrap().clone();
            let bio = headers.iter().position(|h| h == "bio").unwrap();
            let login = headers.iter().position(|h| h == "login").unwrap();
            let alice = records.iter().find(|r| &r[login] == "alice").unwrap();
            assert_eq!(&alice[bio], BIO, "CSV keeps every character");
        }
    }
    assert_eq!(rows, nodes + edges);
}

async fn filters_pick_a_neighbourhood_and_complete_records(app: TestApp) {
    let g = seed_graph(&app).await;
    let part = |path: &'static str| {
        let app = &app;
        async move {
            let (status, _, text) = download(app, path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {text}");
            ndjson_graph(&text)
        }
    };
    let (nodes, edges) = part("/github/export/ndjson?around=ALICE").await;
    assert_eq!(
        nodes,
        [g.alice, g.bob, g.carol, g.one].into_iter().collect()
    );
    assert_eq!(edges.len(), 6, "{edges:?}");
    let (nodes, edges) = part("/github/export/ndjson?around=alice&depth=2").await;
    assert_eq!(nodes.len(), 6);
    assert_eq!(edges.len(), 8);
    let (nodes, _) = part("/github/export/ndjson?around=alice&depth=0").await;
    assert_eq!(nodes, [g.alice].into_iter().collect());
    let (nodes, edges) = part("/github/export/ndjson?complete=true").await;
    assert_eq!(nodes, [g.alice, g.bob, g.dave, g.one].into_iter().collect());
    let expected: BTreeSet<(String, Uuid, Uuid)> = [
        ("follows".into(), g.alice, g.bob),
        ("follows".into(), g.bob, g.dave),
        ("owns".into(), g.alice, g.one),
        ("starred".into(), g.alice, g.one),
        ("starred".into(), g.bob, g.one),
    ]
    .into_iter()
    .collect();
    assert_eq!(edges, expected);
    // carol's neighbourhood, of which only alice and `one` are complete.
    let (nodes, edges) = part("/github/export/ndjson?around=carol&complete=1").await;
    assert_eq!(nodes, [g.alice, g.one].into_iter().collect());
    assert_eq!(edges.len(), 2, "alice owns and starred one: {edges:?}");
}

async fn bad_requests_are_refused_clearly(app: TestApp) {
    seed_graph(&app).await;
    assert_eq!(
        app.get("/github/export/graphml").await.status(),
        StatusCode::FORBIDDEN
    );
    let (_, csv) = app.json("/github/export/csv").await;
    assert!(
        csv["detail"]
            .as_str()
            .unwrap()
            .contains("/github/export/csv/{table}"),
        "{csv}"
    );
    for (path, status, key) in [
        ("/github/export/xml", StatusCode::NOT_FOUND, "detail"),
        ("/github/export/csv", StatusCode::NOT_FOUND, "detail"),
        ("/github/export/csv/nodes", StatusCode::NOT_FOUND, "detail"),
        (
            "/github/export/graphml?around=alice&depth=7",
            StatusCode::BAD_REQUEST,
            "depth",
        ),
        (
            "/github/export/graphml?around=alice&depth=-1",
            StatusCode::BAD_REQUEST,
            "depth",
        ),
        (
            "/github/export/graphml?around=nobody",
            StatusCode::NOT_FOUND,
            "detail",
        ),
        (
            "/github/export/graphml?around=a%00b",
            StatusCode::NOT_FOUND,
            "detail",
        ),
        (
            "/github/export/graphml?complete=maybe",
            StatusCode::BAD_REQUEST,
            "complete",
        ),
    ] {
        let (status_got, body) = app.json(path).await;
        assert_eq!(status_got, status, "{path}: {body}");
        assert!(body.get(key).is_some(), "{path}: {body}");
    }
}

async fn the_command_line_writes_the_same_graph(app: TestApp) {
    seed_graph(&app).await;
    let (nodes, edges) = api_counts(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let url = app.database_url();
    let run = |args: &[&str]| {
        let output = gitomatic(dir.path())
            .env("DATABASE_URL", &url)
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), output.stdout, stderr)
    };
    let (ok, _, stderr) = run(&["export", "--format", "csv", "--output", "tables"]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains(&format!("exported {nodes} nodes and {edges} edges")),
        "{stderr}"
    );
    let mut rows = 0;
    for table in ["developers", "repositories", "follows", "owns", "starred"] {
        let path = dir.path().join("tables").join(format!("{table}.csv"));
        rows += csv::Reader::from_path(&path).unwrap().records().count();
    }
    assert_eq!(rows, nodes + edges);

    let (ok, _, stderr) = run(&["export", "--format", "graphml", "-o", "graph.graphml"]);
    assert!(ok, "{stderr}");
    let graphml = std::fs::read_to_string(dir.path().join("graph.graphml")).unwrap();
    assert_eq!(graphml.matches("<edge source=").count(), edges);
    assert!(!dir.path().join("graph.graphml.partial").exists());

    let (ok, stdout, stderr) = run(&["export", "--format", "ndjson", "--around", "bob"]);
    assert!(ok, "{stderr}");
    let (nodes, _) = ndjson_graph(&String::from_utf8(stdout).unwrap());
    assert_eq!(nodes.len(), 5, "bob, alice, dave, one and two");

    for (args, message) in [
        (&["export", "--format", "csv"][..], "--output DIR"),
        (
            &["export", "--format", "ndjson", "--around", "nobody"],
            "no developer with login \"nobody\"",
        ),
        (
            &["export", "--format", "ndjson", "--depth", "2"],
            "--around",
        ),
        (&["export", "--format", "pdf"], "pdf"),
    ] {
        let (ok, _, stderr) = run(args);
        assert!(!ok, "{args:?}");
        let last = stderr.trim_end().lines().last().unwrap_or_default();
        assert!(
            last.starts_with("gitomatic: ") || last.starts_with("error: "),
            "{stderr}"
        );
        assert!(last.contains(message), "{args:?}: {stderr}");
    }
    assert!(!dir.path().join("graph.ndjson.partial").exists());
}

/// Reads the GraphML with networkx, the NDJSON with `json` and the CSV tables with `csv`.
const PYTHON_READER: &str = r#"
import csv, json, pathlib, sys
import networkx as nx

folder = pathlib.Path(sys.argv[1])
graph = nx.read_graphml(folder / "graph.graphml")
alice = next(n for n, login in graph.nodes(data="login") if login == "alice")
lines = [json.loads(line) for line in open(folder / "graph.ndjson", encoding="utf-8")]
rows = 0
for table in ["developers", "repositories", "follows", "owns", "starred"]:
    with open(folder / f"{table}.csv", newline="", encoding="utf-8") as f:
        rows += sum(1 for _ in csv.DictReader(f))
print(json.dumps({
    "nodes": graph.number_of_nodes(),
    "edges": graph.number_of_edges(),
    "kinds": sorted({kind for _, _, kind in graph.edges(data="kind")}),
    "alice_github_id": graph.nodes[alice]["github_id"],
    "alice_bio": graph.nodes[alice]["bio"],
    "ndjson": len(lines),
    "csv_rows": rows,
}))
"#;

async fn networkx_reads_what_the_api_reports(app: TestApp) {
    let python = std::env::var("NETWORKX_PYTHON").expect("NETWORKX_PYTHON names a python");
    seed_graph(&app).await;
    let (nodes, edges) = api_counts(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let mut downloads = vec![
        ("graphml".to_owned(), "graph.graphml".to_owned()),
        ("ndjson".to_owned(), "graph.ndjson".to_owned()),
    ];
    for table in ["developers", "repositories", "follows", "owns", "starred"] {
        downloads.push((format!("csv/{table}"), format!("{table}.csv")));
    }
    for (format, file) in downloads {
        let (status, _, body) = download(&app, &format!("/github/export/{format}")).await;
        assert_eq!(status, StatusCode::OK);
        std::fs::write(dir.path().join(file), body).unwrap();
    }
    let output = std::process::Command::new(python)
        .args(["-c", PYTHON_READER])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(read["nodes"], nodes);
    assert_eq!(read["edges"], edges);
    assert_eq!(
        read["kinds"],
        serde_json::json!(["follows", "owns", "starred"])
    );
    assert_eq!(read["alice_github_id"], 1, "typed as a number");
    assert_eq!(read["alice_bio"], BIO.replace('\u{1}', "\u{FFFD}"));
    assert_eq!(read["ndjson"], nodes + edges);
    assert_eq!(read["csv_rows"], nodes + edges);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs networkx: scripts/contract.sh"]
async fn networkx_reads_the_export_on_sqlite() {
    run(Backend::Sqlite, networkx_reads_what_the_api_reports).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs networkx: scripts/contract.sh"]
async fn networkx_reads_the_export_on_postgres() {
    run(Backend::Postgres, networkx_reads_what_the_api_reports).await;
}

/// A download holds a connection for its whole length: with a pool of one there is none to
/// spare, and the API keeps it.
async fn a_download_never_takes_the_last_connection(db: TestDb) {
    let app = TestApp::start(db, |config| config.database_max_connections = 1).await;
    seed_graph(&app).await;
    let (status, body) = app.json("/github/export/graphml").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Too many exports")
    );
    let (status, _) = app.json("/github/developers/").await;
    assert_eq!(status, StatusCode::OK);
}

backend_tests!(
    a_download_never_takes_the_last_connection,
    every_format_holds_the_graph_the_api_reports,
    filters_pick_a_neighbourhood_and_complete_records,
    bad_requests_are_refused_clearly,
    the_command_line_writes_the_same_graph,
);
