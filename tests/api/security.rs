//! Who gets in, what may be sent, and what never leaks.

use std::process::Stdio;
use std::time::Duration;

use gitomatic::db::filter::{Cmp, Condition};
use gitomatic::db::sql::SqlValue;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestDb, USER, backend_tests, gitomatic};

/// Every operation the OpenAPI document lists that needs credentials, with a made-up id.
async fn protected_operations(app: &TestApp) -> Vec<(String, String)> {
    let (_, document) = app.json("/github/swagger.json").await;
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation.get("security").is_some() {
                let path = path.replace("{id}", "00000000-0000-0000-0000-000000000001");
                operations.push((method.to_uppercase(), path));
            }
        }
    }
    operations
}

async fn every_protected_operation_refuses_anonymous_and_wrong_credentials(app: TestApp) {
    let operations = protected_operations(&app).await;
    assert!(operations.len() >= 17, "{operations:?}");
    let forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0ZXIiLCJleHAiOjk5OTk5OTk5OTl9.bm9wZQ";
    for (client, (method, path)) in operations.iter().enumerate() {
        // One client per operation, so that the login throttle (tested in auth.rs) does
        // not turn the later refusals into 429s.
        let request = |auth: Option<&str>| {
            let mut request = app
                .client
                .request(method.parse().unwrap(), app.url(path))
                .header("x-forwarded-for", format!("198.51.100.{client}"));
            if let Some(auth) = auth {
                request = request.header("authorization", auth);
            }
            request
        };
        let wrong_basic = format!("Basic {}", base64_of(&format!("{USER}:wrong")));
        for (who, auth) in [
            ("anonymous", None),
            ("wrong password", Some(wrong_basic.as_str())),
            ("forged token", Some(&format!("Bearer {forged}"))),
        ] {
            let response = request(auth).send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{who}: {method} {path}"
            );
        }
    }
}

async fn filter_values_reach_sql_only_as_bound_parameters(app: TestApp) {
    let hostile = "x' OR '1'='1'; DROP TABLE developers; --";
    let conditions = [
        Condition::Compare {
            column: "login",
            cmp: Cmp::Eq,
            value: SqlValue::Text(hostile.to_owned()),
        },
        Condition::Contains {
            column: "bio",
            needle: hostile.to_owned(),
        },
    ];
    let clause = app.db.where_clause("developers", &conditions);
    assert!(
        !clause.sql.contains("DROP") && !clause.sql.contains('\''),
        "{}",
        clause.sql
    );
    // Both are bound (on SQLite the substring twice: for its index, then to compare).
    let bound = |value: &SqlValue| matches!(value, SqlValue::Text(text) if text.contains(hostile));
    assert!(clause.values.len() >= 2, "{:?}", clause.values);
    assert!(clause.values.iter().all(bound), "{:?}", clause.values);
    let (status, body) = app
        .json(&format!(
            "/github/developers/?login={}&bio__contains={}",
            urlencode(hostile),
            urlencode(hostile)
        ))
        .await;
    assert_eq!((status, body["count"].clone()), (StatusCode::OK, json!(0)));
    let (status, _) = app.json("/github/developers/").await;
    assert_eq!(status, StatusCode::OK, "the table is still there");
}

async fn bodies_over_the_limit_are_refused_before_they_are_read(app: TestApp) {
    let big = "name=discovery_scraper&pad=".to_owned() + &"x".repeat(70 * 1024);
    let declared = app
        .client
        .post(app.url("/github/tasks/"))
        .basic_auth(USER, Some(PASSWORD))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        declared.json::<Value>().await.unwrap(),
        json!({"detail": "Request body too large."})
    );
    // Without a Content-Length (chunked), the body is cut off at the same size.
    let status_line = chunked_post(&app, "/github/tasks/", big.as_bytes()).await;
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    let (_, jobs) = app.json("/github/jobs/").await;
    assert_eq!(jobs["count"], 0, "nothing was queued");
}

backend_tests!(
    every_protected_operation_refuses_anonymous_and_wrong_credentials,
    filter_values_reach_sql_only_as_bound_parameters,
    bodies_over_the_limit_are_refused_before_they_are_read,
);

/// POSTs `body` with `Transfer-Encoding: chunked` over a raw connection; the status line.
async fn chunked_post(app: &TestApp, path: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Basic {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
        base64_of(&format!("{USER}:{PASSWORD}"))
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(4096) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        // The server may answer and close before it has read everything.
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0; 1024];
    let read = stream.read(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer[..read])
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A child `serve` with every secret set and debug logging, put through logins, tokens,
/// refusals and a sync: its logs and answers must hold none of the secrets.
#[tokio::test]
async fn no_secret_reaches_the_logs_or_the_answers() {
    let Some(test_db) =
        <TestDb as crate::helpers::Fixture>::create(crate::helpers::Backend::Sqlite).await
    else {
        return;
    };
    const SECRET_KEY: &str = "secret-key-7c1f0e";
    const GITHUB_TOKEN: &str = "ghp_secretgithubtoken9d2a";
    const WRONG: &str = "wrong-password-4b7e";
    let fake = crate::fake_github::FakeGitHub::start(crate::fake_github::Graph::generate(
        crate::sync::SMALL,
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut create = gitomatic(dir.path());
    create
        .args(["create-user", USER, "--password-stdin"])
        .env("DATABASE_URL", &test_db.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let created = tokio::task::spawn_blocking(move || {
        let mut child = create.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(PASSWORD.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(created.status.success());

    let port = free_port();
    let log_path = dir.path().join("serve.log");
    let mut serve = gitomatic(dir.path());
    serve
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "1",
        ])
        .env("DATABASE_URL", &test_db.url)
        .env("SECRET_KEY", SECRET_KEY)
        .env("GITHUB_API_URL", &fake.url)
        .env("GITHUB_TOKEN", GITHUB_TOKEN)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stdout(std::fs::File::create(dir.path().join("serve.out")).unwrap())
        .stderr(std::fs::File::create(&log_path).unwrap());
    let mut child = serve.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/health/")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut answers = String::new();
    let token = json_of(
        client
            .get(format!("{base}/github/auth_token/"))
            .basic_auth(USER, Some(PASSWORD)),
    )
    .await;
    let token = token["auth_token"].as_str().unwrap().to_owned();
    let requests = [
        client
            .get(format!("{base}/github/developers/"))
            .basic_auth(USER, Some(PASSWORD)),
        client
            .get(format!("{base}/github/developers/"))
            .basic_auth(USER, Some(WRONG)),
        client
            .get(format!("{base}/github/developers/?format=api"))
            .basic_auth(USER, Some(WRONG)),
        client
            .get(format!("{base}/github/developers/"))
            .bearer_auth(&token),
        client
            .get(format!("{base}/github/developers/"))
            .bearer_auth(format!("{token}x")),
        client
            .get(format!("{base}/github/rate_limit/"))
            .bearer_auth(&token),
        client
            .post(format!("{base}/github/tasks/"))
            .basic_auth(USER, Some(PASSWORD))
            .form(&[("name", "full_profile_sync"), ("username", "center")]),
        client
            .post(format!("{base}/github/tasks/"))
            .basic_auth(USER, Some(PASSWORD))
            .header("content-type", "application/json")
            .body("{broken"),
    ];
    for request in requests {
        answers.push_str(&request.send().await.unwrap().text().await.unwrap());
    }
    // Let the worker run the sync, which sends the GitHub token with every request.
    let mut synced = false;
    for _ in 0..400 {
        let jobs = json_of(
            client
                .get(format!("{base}/github/jobs/"))
                .bearer_auth(&token),
        )
        .await;
        if jobs["results"][0]["status"] == "succeeded" {
            synced = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(synced, "the sync ran");
    assert!(
        fake.requests().iter().all(|r| r.authorized),
        "the token reached GitHub"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let logs = std::fs::read_to_string(&log_path).unwrap()
        + &std::fs::read_to_string(dir.path().join("serve.out")).unwrap();
    assert!(logs.lines().count() > 20, "debug logging was on: {logs}");
    for secret in [
        PASSWORD,
        WRONG,
        SECRET_KEY,
        GITHUB_TOKEN,
        &token,
        &base64_of(&format!("{USER}:{PASSWORD}")),
    ] {
        assert!(!logs.contains(secret), "a secret in the logs: {secret}");
        assert!(!answers.contains(secret), "a secret in an answer: {secret}");
    }
}

/// A port nothing listens on now (the OS picks it; the listener is closed at once).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
