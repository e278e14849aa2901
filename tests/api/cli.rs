//! The `gitomatic` binary as an operator runs it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use gitomatic::with_pool;

use crate::helpers::{TestDb, backend_tests, gitomatic};

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a failed run that said what went wrong in one line.
fn assert_fails_with_one_line(output: &Output, expected: &str) {
    assert!(!output.status.success(), "should fail: {output:?}");
    let stderr = stderr_of(output);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("gitomatic: "), "{stderr}");
    assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

fn create_user(db: &TestDb, dir: &std::path::Path, name: &str, password: &str) -> Output {
    let mut child = gitomatic(dir)
        .args(["create-user", name, "--password-stdin"])
        .env("DATABASE_URL", &db.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

async fn migrate_creates_the_schema_and_a_second_run_changes_nothing(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = gitomatic(dir.path())
            .arg("migrate")
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
    }
    let conn = db.connect().await;
    let applied: i64 = with_pool!(&conn, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM _sqlx_migrations WHERE success"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(
        applied as usize,
        gitomatic::db::Db::migration_versions()[0].len()
    );
    for table in [
        "developers",
        "repositories",
        "follows",
        "stars",
        "rate_limits",
        "api_users",
    ] {
        let rows: i64 = with_pool!(&conn, |pool| sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table}"
        ))
        .fetch_one(pool)
        .await
        .unwrap());
        assert_eq!(rows, 0, "{table} exists and is empty");
    }
}

async fn create_user_creates_then_updates_and_refuses_an_empty_password(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let first = create_user(&db, dir.path(), "alice", "wonderland\n");
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        "created user alice\n"
    );

    let conn = db.connect().await;
    let stored_hash = || async {
        with_pool!(&conn, |pool| sqlx::query_scalar::<_, String>(
            "SELECT password_hash FROM api_users WHERE username = 'alice'"
        )
        .fetch_one(pool)
        .await
        .unwrap())
    };
    let hash = stored_hash().await;
    assert!(
        gitomatic::auth::password::verify("wonderland", &hash),
        "the line ending is not part of it"
    );

    let second = create_user(&db, dir.path(), "alice", "looking-glass");
    assert!(second.status.success(), "{}", stderr_of(&second));
    assert_eq!(
        String::from_utf8_lossy(&second.stdout),
        "updated the password of user alice\n"
    );
    let hash = stored_hash().await;
    assert!(gitomatic::auth::password::verify("looking-glass", &hash));
    assert!(!gitomatic::auth::password::verify("wonderland", &hash));
    assert_eq!(conn.user_count().await.unwrap(), 1);

    let empty = create_user(&db, dir.path(), "alice", "\n");
    assert_fails_with_one_line(&empty, "the password must not be empty");
    assert!(
        gitomatic::auth::password::verify("looking-glass", &stored_hash().await),
        "unchanged"
    );
}

async fn serve_answers_health_logs_requests_hides_secrets_and_stops_on_sigterm(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    // PostgreSQL here trusts local connections, so a password in the URL is accepted unused.
    let mut database_url = url::Url::parse(&db.url).unwrap();
    if database_url.scheme() == "postgres" && !database_url.username().is_empty() {
        database_url
            .set_password(Some("hunter2-db-password"))
            .unwrap();
    }
    let mut child = gitomatic(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", database_url.as_str())
        .env("LOG_FORMAT", "json")
        .env("SECRET_KEY", "s3cr3t-signing-key")
        .env("GITHUB_TOKEN", "ghp_n0t4r34lt0k3n")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let address = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("serve logs that it listens");
        let event: serde_json::Value = serde_json::from_str(&line).expect("JSON log lines");
        seen.push(line);
        if event["message"] == "listening" {
            break event["address"].as_str().unwrap().to_owned();
        }
    };
    let answer = reqwest::Client::new()
        .get(format!("http://{address}/health/"))
        .header("x-request-id", "req-test-42")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["x-request-id"], "req-test-42");
    assert_eq!(answer.text().await.unwrap(), "ok");

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "a SIGTERM stop is a clean exit: {status}");
    reader.join().unwrap();
    seen.extend(lines.try_iter());
    let log = seen.join("\n");
    assert!(
        log.contains("gitomatic create-user"),
        "says how to create the first user: {log}"
    );
    assert!(log.contains("\"message\":\"stopped\""), "{log}");
    // The request's id, method and route are on its log lines, with what it answered.
    assert!(
        seen.iter().any(|line| line.contains("req-test-42")
            && line.contains("\"route\":\"/health/\"")
            && line.contains("\"status\":200")),
        "no log line of the request: {log}"
    );
    for secret in [
        "hunter2-db-password",
        "s3cr3t-signing-key",
        "ghp_n0t4r34lt0k3n",
    ] {
        assert!(!log.contains(secret), "{secret} leaked into the log: {log}");
    }
}

backend_tests!(
    migrate_creates_the_schema_and_a_second_run_changes_nothing,
    create_user_creates_then_updates_and_refuses_an_empty_password,
    serve_answers_health_logs_requests_hides_secrets_and_stops_on_sigterm,
);

#[test]
fn a_bad_flag_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = gitomatic(dir.path())
        .args(["serve", "--frobnicate"])
        .output()
        .unwrap();
    assert_fails_with_one_line(&output, "unexpected argument '--frobnicate'");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_malformed_database_url_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = gitomatic(dir.path())
        .arg("migrate")
        .env("DATABASE_URL", "mysql://root:pw@localhost/db")
        .output()
        .unwrap();
    assert_fails_with_one_line(
        &output,
        "invalid database URL mysql://root:***@localhost/db",
    );
    assert!(
        !stderr_of(&output).contains(":pw@"),
        "the password stays hidden"
    );
}

#[test]
fn an_unreachable_database_is_reported_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = gitomatic(dir.path())
        .arg("serve")
        .env("DATABASE_URL", "postgres://app:secretpw@127.0.0.1:1/app")
        .output()
        .unwrap();
    assert_fails_with_one_line(
        &output,
        "cannot connect to database postgres://app:***@127.0.0.1:1/app",
    );
    assert!(!stderr_of(&output).contains("secretpw"));
}

#[test]
fn an_unreadable_config_file_is_reported_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = gitomatic(dir.path())
        .args(["migrate", "-c", "missing.toml"])
        .output()
        .unwrap();
    assert_fails_with_one_line(&output, "cannot read config file missing.toml");
}

#[test]
fn the_printed_default_config_is_accepted_back() {
    let dir = tempfile::tempdir().unwrap();
    let printed = gitomatic(dir.path())
        .arg("print-default-config")
        .output()
        .unwrap();
    assert!(printed.status.success());
    std::fs::write(dir.path().join("gitomatic.toml"), &printed.stdout).unwrap();
    // -c is global: before or after the subcommand.
    for args in [
        ["-c", "gitomatic.toml", "migrate"],
        ["migrate", "-c", "gitomatic.toml"],
    ] {
        let output = gitomatic(dir.path()).args(args).output().unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
    }
    assert!(
        dir.path().join("gitomatic.db").exists(),
        "the default database is a file in the working directory"
    );
}
