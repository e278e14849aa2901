//! `gitomatic import django`: the Django service's database, built here from its schema
//! (`../shared/reference/original-schema.sql`) and rows of our own, read into ours.

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::process::Output;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gitomatic::db::{Db, Timestamp};
use gitomatic::with_pool;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::helpers::{Backend, Fixture, TestApp, TestDb, backend_tests, gitomatic};
use crate::seed;

/// The original's database (always PostgreSQL, as the Django service ran on) and ours.
struct Move {
    source: TestDb,
    target: TestDb,
}

impl Fixture for Move {
    async fn create(backend: Backend) -> Option<Self> {
        let source = TestDb::create(Backend::Postgres).await?;
        let target = TestDb::create(backend).await?;
        let mut connection = PgConnection::connect(&source.url).await.unwrap();
        sqlx::raw_sql(&original_schema())
            .execute(&mut connection)
            .await
            .expect("the original schema loads");
        Some(Self { source, target })
    }
}

/// The schema file the Django migrations left, kept beside the project (never copied in).
fn original_schema() -> String {
    let candidates = [
        std::env::var("ORIGINAL_SCHEMA_SQL").ok(),
        Some(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/reference/original-schema.sql"
            )
            .into(),
        ),
        Some("/work/shared/reference/original-schema.sql".into()),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .expect("the original schema: set ORIGINAL_SCHEMA_SQL to original-schema.sql")
}

impl Move {
    async fn source(&self) -> PgConnection {
        PgConnection::connect(&self.source.url).await.unwrap()
    }

    async fn execute(&self, sql: &str) {
        let mut source = self.source().await;
        sqlx::raw_sql(sql).execute(&mut source).await.unwrap();
    }

    fn import(&self, extra: &[&str]) -> Output {
        let dir = tempfile::tempdir().unwrap();
        gitomatic(dir.path())
            .env("DATABASE_URL", &self.target.url)
            .args(["import", "django", &self.source.url])
            .args(extra)
            .output()
            .unwrap()
    }

    fn import_ok(&self) -> String {
        let output = self.import(&[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

/// Django's `PBKDF2PasswordHasher.encode`: PBKDF2-HMAC-SHA256, 32 bytes, base64.
fn django_hash(password: &str, salt: &str, iterations: u32) -> String {
    let mut hash = [0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(iterations).unwrap(),
        salt.as_bytes(),
        password.as_bytes(),
        &mut hash,
    );
    format!(
        "pbkdf2_sha256${iterations}${salt}${}",
        STANDARD.encode(hash)
    )
}

const ANA: &str = "0a000000-0000-4000-8000-000000000001";
const BEN: &str = "0a000000-0000-4000-8000-000000000002";
const CY: &str = "0a000000-0000-4000-8000-000000000003";
const DI: &str = "0a000000-0000-4000-8000-000000000004";
const TOOL: &str = "0b000000-0000-4000-8000-000000000001";
const NOTES: &str = "0b000000-0000-4000-8000-000000000002";
const ANA_PASSWORD: &str = "ana's django password";

/// Four developers (cy known only from a list), two repositories, follows and stars split
/// over the original's two tables each (with one pair in both), three users, a rate limit.
async fn seed_original(m: &Move) {
    m.execute(&format!(
        r#"
        INSERT INTO github_developer (id, github_id, login, data_source, bio, company, created_at,
            email, followers_count, following_count, location, name, public_gists, public_repos,
            updated_at) VALUES
        ('{ANA}', '1001', 'ana', '{{"login": "ana", "id": 1001, "node_id": "MDQ6VXNlcjEwMDE=", "created_at": "2012-03-04T05:06:07Z", "followers": 2}}',
         'Builds "things" & <tools>', '@acme', '2012-03-04T05:06:07Z', 'ana@example.com', 2, 0, 'Lisbon', 'Ana',
         3, 1, '2020-09-29T09:20:44.5Z'),
        ('{BEN}', '1002', 'ben', '{{"login": "ben", "id": 1002, "created_at": "2013-01-01T00:00:00Z"}}',
         NULL, NULL, '2013-01-01T00:00:00Z', NULL, 0, 1, NULL, NULL, 0, 1, '2020-01-01T00:00:00Z'),
        ('{CY}', '1003', 'cy', '{{"login": "cy", "id": 1003}}',
         NULL, NULL, '2014-01-01T00:00:00Z', NULL, 0, 2, NULL, 'Cy', 0, 0, '2014-01-01T00:00:00Z'),
        ('{DI}', '1004', 'di', '{{"login": "di", "id": 1004, "created_at": "2015-01-01T00:00:00Z"}}',
         NULL, NULL, '2015-01-01T00:00:00Z', NULL, 1, 0, NULL, NULL, 0, 0, '2015-01-01T00:00:00Z');
        INSERT INTO github_repository (id, github_id, data_source, name, description, archived,
            created_at, disabled, full_name, has_downloads, has_issues, has_pages, has_projects,
            has_wiki, homepage, language, private, stargazers_count, subscribers_count,
            updated_at, watchers_count, open_issues_count, owner_id, owner_github_id) VALUES
        ('{TOOL}', '5001', '{{"id": 5001, "full_name": "ana/tool", "subscribers_count": 1}}', 'tool',
         'A tool', FALSE, '2016-05-06T07:08:09Z', FALSE, 'ana/tool', TRUE, TRUE, FALSE, TRUE, FALSE,
         NULL, 'Rust', FALSE, 2, 1, '2020-02-03T04:05:06.000007Z', 2, 4, '{ANA}', '1001'),
        ('{NOTES}', '5002', '{{"id": 5002, "full_name": "ben/notes"}}', 'notes', NULL, TRUE,
         '2017-01-01T00:00:00Z', FALSE, 'ben/notes', FALSE, FALSE, TRUE, FALSE, TRUE,
         'https://ben.example', NULL, FALSE, 1, 0, '2017-01-02T00:00:00Z', 1, 0, '{BEN}', '1002');
        -- ben follows ana (in both tables), cy follows ana and di.
        INSERT INTO github_developer_followers (from_developer_id, to_developer_id) VALUES
            ('{ANA}', '{BEN}'), ('{DI}', '{CY}');
        INSERT INTO github_developer_following (from_developer_id, to_developer_id) VALUES
            ('{BEN}', '{ANA}'), ('{CY}', '{ANA}');
        -- ben starred tool (in both tables), cy starred tool, di starred notes.
        INSERT INTO github_developer_starred_repositories (developer_id, repository_id) VALUES
            ('{BEN}', '{TOOL}'), ('{DI}', '{NOTES}');
        INSERT INTO github_repository_stargazers (repository_id, developer_id) VALUES
            ('{TOOL}', '{BEN}'), ('{TOOL}', '{CY}');
        INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
            is_staff, is_active, date_joined) VALUES
        ('{}', TRUE, 'ana', '', '', '', TRUE, TRUE, '2020-01-01T00:00:00Z'),
        ('{}', FALSE, 'gone', '', '', '', FALSE, FALSE, '2020-01-01T00:00:00Z'),
        ('!unusable', FALSE, 'nopassword', '', '', '', FALSE, TRUE, '2020-01-01T00:00:00Z');
        INSERT INTO github_ratelimit (rate_limit, rate_remaining, rate_reset_raw, rate_reset)
            VALUES (5000, 4321, 1600000000, to_timestamp(1600000000));
        "#,
        django_hash(ANA_PASSWORD, "6HN7Oh4qz5Pn", 260_000),
        django_hash("gone's password", "fQ3kLr9pE2Vw", 260_000),
    ))
    .await;
}

/// The ids a list of record URLs points at.
fn ids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|url| {
            let url = url.as_str().unwrap().trim_end_matches('/');
            url.rsplit('/').next().unwrap().to_owned()
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Each developer's and repository's fields as the original served them.
fn expected_records() -> Vec<(String, Value)> {
    vec![
        (
            format!("/github/developers/{ANA}/"),
            json!({"github_id": "1001", "login": "ana", "name": "Ana", "location": "Lisbon",
                "bio": "Builds \"things\" & <tools>", "company": "@acme", "email": "ana@example.com",
                "created_at": "2012-03-04T05:06:07Z", "updated_at": "2020-09-29T09:20:44.500000Z",
                "followers_count": 2, "following_count": 0, "public_gists": 3, "public_repos": 1}),
        ),
        (
            format!("/github/developers/{BEN}/"),
            json!({"github_id": "1002", "login": "ben", "name": null, "location": null,
                "bio": null, "company": null, "email": null, "created_at": "2013-01-01T00:00:00Z",
                "updated_at": "2020-01-01T00:00:00Z", "followers_count": 0,
                "following_count": 1, "public_gists": 0, "public_repos": 1}),
        ),
        (
            format!("/github/developers/{CY}/"),
            json!({"github_id": "1003", "login": "cy", "name": "Cy", "following_count": 2,
                "synced_at": null}),
        ),
        (
            format!("/github/repositories/{TOOL}/"),
            json!({"github_id": "5001", "owner_github_id": "1001", "name": "tool",
                "full_name": "ana/tool", "description": "A tool", "homepage": null,
                "language": "Rust", "created_at": "2016-05-06T07:08:09Z",
                "updated_at": "2020-02-03T04:05:06.000007Z", "has_downloads": true,
                "has_issues": true, "has_pages": false, "has_projects": true, "has_wiki": false,
                "private": false, "archived": false, "disabled": false, "stargazers_count": 2,
                "subscribers_count": 1, "watchers_count": 2, "open_issues_count": 4}),
        ),
        (
            format!("/github/repositories/{NOTES}/"),
            json!({"github_id": "5002", "full_name": "ben/notes", "description": null,
                "homepage": "https://ben.example", "language": null, "archived": true,
                "synced_at": null}),
        ),
    ]
}

async fn every_record_answers_as_the_original_did(m: Move) {
    seed_original(&m).await;
    let report = m.import_ok();
    assert!(report.contains("4 developers"), "{report}");
    assert!(report.contains("1 inactive users not imported"), "{report}");
    assert!(
        report.contains("1 left out: users whose password hash"),
        "{report}"
    );

    let app = TestApp::start(m.target.shared(), |_| {}).await;
    for (path, expected) in expected_records() {
        let (status, record) = app.json(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(record["url"].as_str().unwrap().ends_with(&path), "{path}");
        for (field, value) in expected.as_object().unwrap() {
            assert_eq!(&record[field], value, "{path} {field}");
        }
    }
    let (_, ana) = app.json(&format!("/github/developers/{ANA}/")).await;
    assert!(
        ana["synced_at"].is_string(),
        "the original fetched ana's profile"
    );
    assert_eq!(ids(&ana["followers"]), set(&[BEN, CY]));
    assert_eq!(ids(&ana["following"]), set(&[]));
    assert_eq!(ids(&ana["repositories"]), set(&[TOOL]));
    let (_, cy) = app.json(&format!("/github/developers/{CY}/")).await;
    assert_eq!(ids(&cy["following"]), set(&[ANA, DI]));
    assert_eq!(ids(&cy["starred_repositories"]), set(&[TOOL]));
    let (_, ben) = app.json(&format!("/github/developers/{BEN}/")).await;
    assert_eq!(ids(&ben["following"]), set(&[ANA]));
    assert_eq!(ids(&ben["starred_repositories"]), set(&[TOOL]));
    let (_, tool) = app.json(&format!("/github/repositories/{TOOL}/")).await;
    assert_eq!(ids(&tool["stargazers"]), set(&[BEN, CY]));
    assert!(
        tool["owner"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/github/developers/{ANA}/"))
    );
    let (_, notes) = app
        .json(&format!("/github/repositories/{NOTES}/stargazers/"))
        .await;
    assert_eq!(notes["count"], 1);

    let (_, limit) = app.json("/github/rate_limit/1/").await;
    assert_eq!(limit["rate_limit"], 5000);
    assert_eq!(limit["rate_remaining"], 4321);
    assert_eq!(limit["rate_reset_raw"], 1_600_000_000);
    assert_eq!(limit["rate_reset"], "2020-09-13T12:26:40Z");
    let credential: Option<String> = with_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT credential FROM rate_limits WHERE id = 1"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(
        credential, None,
        "the original's quota is no credential of ours"
    );

    // ana logs in with her Django password, which is then stored as argon2id.
    let login = |user: &'static str, password: &'static str| {
        app.client
            .get(app.url("/github/developers/"))
            .basic_auth(user, Some(password))
            .send()
    };
    assert_eq!(
        login("ana", "wrong").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        stored_hash(&app.db, "ana").await.unwrap()[..14].to_owned(),
        "pbkdf2_sha256$"
    );
    assert_eq!(
        login("ana", ANA_PASSWORD).await.unwrap().status(),
        StatusCode::OK
    );
    let upgraded = stored_hash(&app.db, "ana").await.unwrap();
    assert!(upgraded.starts_with("$argon2id$"), "{upgraded}");
    assert_eq!(
        login("ana", ANA_PASSWORD).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(stored_hash(&app.db, "gone").await, None, "inactive");
    assert_eq!(stored_hash(&app.db, "nopassword").await, None);

    // A second import changes nothing, ana's upgraded hash included.
    let before = dump(&app.db).await;
    m.import_ok();
    assert_eq!(dump(&app.db).await, before);
    app.stop().await.unwrap();
}

async fn stored_hash(db: &Db, user: &str) -> Option<String> {
    with_pool!(db, |pool| sqlx::query_scalar(
        "SELECT password_hash FROM api_users WHERE username = $1"
    )
    .bind(user)
    .fetch_optional(pool)
    .await
    .unwrap())
}

/// id, github_id, login, name, bio, raw, whether synced_at is null.
type DeveloperDump = (
    Uuid,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
);
/// id, owner_id, github_id, full_name, raw, whether synced_at is null.
type RepositoryDump = (Uuid, Option<Uuid>, i64, String, Option<String>, bool);

/// Everything an import writes, in a comparable form.
#[derive(Debug, PartialEq)]
struct Dump {
    developers: Vec<DeveloperDump>,
    repositories: Vec<RepositoryDump>,
    follows: Vec<(Uuid, Uuid)>,
    stars: Vec<(Uuid, Uuid)>,
    users: Vec<(String, String)>,
    rate_limits: Vec<(i64, String, Option<i64>, Option<i64>)>,
    synced_at: Vec<Option<Timestamp>>,
}

async fn dump(db: &Db) -> Dump {
    with_pool!(db, |pool| Dump {
        developers: sqlx::query_as(
            "SELECT id, github_id, login, name, bio, CAST(raw AS TEXT), synced_at IS NULL \
             FROM developers ORDER BY github_id"
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        repositories: sqlx::query_as(
            "SELECT id, owner_id, github_id, full_name, CAST(raw AS TEXT), synced_at IS NULL \
             FROM repositories ORDER BY github_id"
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        follows: sqlx::query_as("SELECT follower_id, followee_id FROM follows ORDER BY 1, 2")
            .fetch_all(pool)
            .await
            .unwrap(),
        stars: sqlx::query_as("SELECT developer_id, repository_id FROM stars ORDER BY 1, 2")
            .fetch_all(pool)
            .await
            .unwrap(),
        users: sqlx::query_as("SELECT username, password_hash FROM api_users ORDER BY 1")
            .fetch_all(pool)
            .await
            .unwrap(),
        rate_limits: sqlx::query_as(
            "SELECT id, resource, rate_remaining, rate_reset_raw FROM rate_limits ORDER BY id"
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        synced_at: sqlx::query_scalar("SELECT synced_at FROM developers ORDER BY github_id")
            .fetch_all(pool)
            .await
            .unwrap(),
    })
}

/// A dump without what differs between two imports of the same rows: when each ran.
fn without_times(mut dump: Dump) -> Dump {
    dump.synced_at.clear();
    dump
}

async fn an_import_killed_half_way_goes_on_and_ends_equal(m: Move) {
    // Enough rows that the import is still running when it is killed.
    m.execute(
        r#"
        INSERT INTO github_developer (id, github_id, login, data_source, created_at,
            followers_count, following_count, public_gists, public_repos, updated_at)
        SELECT md5('d' || i)::uuid, (100000 + i)::text, 'user' || i,
            jsonb_build_object('id', 100000 + i, 'created_at', '2020-01-01T00:00:00Z'),
            '2020-01-01T00:00:00Z', 0, 0, 0, 1, '2020-01-01T00:00:00Z'
        FROM generate_series(1, 1500) i;
        INSERT INTO github_repository (id, github_id, data_source, name, archived, created_at,
            disabled, full_name, has_downloads, has_issues, has_pages, has_projects, has_wiki,
            private, stargazers_count, subscribers_count, updated_at, watchers_count,
            open_issues_count, owner_id, owner_github_id)
        SELECT md5('r' || i)::uuid, (900000 + i)::text, '{}', 'repo', FALSE,
            '2020-01-01T00:00:00Z', FALSE, 'user' || i || '/repo', TRUE, TRUE, FALSE, TRUE,
            TRUE, FALSE, 0, 0, '2020-01-01T00:00:00Z', 0, 0, md5('d' || i)::uuid,
            (100000 + i)::text
        FROM generate_series(1, 500) i;
        INSERT INTO github_developer_following (from_developer_id, to_developer_id)
        SELECT md5('d' || i)::uuid, md5('d' || ((i * 7 + k) % 1500 + 1))::uuid
        FROM generate_series(1, 1500) i, generate_series(1, 3) k ON CONFLICT DO NOTHING;
        INSERT INTO github_developer_followers (from_developer_id, to_developer_id)
        SELECT md5('d' || i)::uuid, md5('d' || ((i * 11 + k) % 1500 + 1))::uuid
        FROM generate_series(1, 1500) i, generate_series(1, 2) k ON CONFLICT DO NOTHING;
        INSERT INTO github_repository_stargazers (repository_id, developer_id)
        SELECT md5('r' || (i % 500 + 1))::uuid, md5('d' || i)::uuid
        FROM generate_series(1, 1500) i;
        "#,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = gitomatic(dir.path())
        .env("DATABASE_URL", &m.target.url)
        .args(["import", "django", &m.source.url, "--batch-size", "10"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some batches are in: the progress says where it stood.
    let db = m.target.connect().await;
    loop {
        let progress: i64 = with_pool!(&db, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM import_progress WHERE step = 'repositories'"
        )
        .fetch_one(pool)
        .await
        .unwrap_or(0));
        if progress > 0 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "killed before it ended"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let half = dump(&db).await;
    assert_eq!(half.developers.len(), 1500);
    let progress: i64 = with_pool!(&db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM import_progress"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert!(progress > 0, "killed before it ended");
    m.import_ok();
    let resumed = dump(&db).await;

    // The same import, uninterrupted, into another database.
    let whole = Move {
        source: m.source,
        target: m.target.sibling().await,
    };
    whole.import_ok();
    let other = whole.target.connect().await;
    let uninterrupted = dump(&other).await;
    let union: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT from_developer_id, to_developer_id \
         FROM github_developer_following UNION SELECT to_developer_id, from_developer_id \
         FROM github_developer_followers) edges",
    )
    .fetch_one(&mut whole.source().await)
    .await
    .unwrap();
    assert_eq!(resumed.follows.len() as i64, union);
    assert_eq!(without_times(resumed), without_times(uninterrupted));
    let left: i64 = with_pool!(&db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM import_progress"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(left, 0, "a finished import forgets where it stood");
}

async fn a_record_we_have_is_merged_and_its_imported_id_still_answers(m: Move) {
    seed_original(&m).await;
    let app = TestApp::start(m.target.shared(), |_| {}).await;
    let ours = seed::developer(
        &app.db,
        seed::Dev {
            location: Some("Porto".into()),
            synced_at: seed::at("2024-06-01T00:00:00Z"),
            ..seed::dev(1001, "ana-renamed")
        },
    )
    .await;
    m.import_ok();
    let (_, merged) = app.json(&format!("/github/developers/{ours}/")).await;
    assert_eq!(merged["login"], "ana-renamed", "ours wins");
    assert_eq!(merged["location"], "Porto", "ours wins");
    assert_eq!(merged["name"], "Ana", "theirs fills what ours lacks");
    assert_eq!(merged["bio"], "Builds \"things\" & <tools>");
    assert_eq!(merged["synced_at"], "2024-06-01T00:00:00Z");
    assert_eq!(ids(&merged["followers"]), set(&[BEN, CY]));
    assert_eq!(ids(&merged["repositories"]), set(&[TOOL]));
    // The original's URL for ana leads to the merged record.
    for suffix in ["", "followers/"] {
        let response = app
            .get_auth(&format!("/github/developers/{ANA}/{suffix}?format=json"))
            .await;
        assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY, "{suffix}");
        assert_eq!(
            response.headers()["location"],
            format!("/github/developers/{ours}/{suffix}?format=json").as_str()
        );
    }
    assert_eq!(
        app.get_auth(&format!("/github/developers/{}/", Uuid::new_v4()))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // ana's old id is a developer's: as a repository's it names nothing.
    assert_eq!(
        app.get_auth(&format!("/github/repositories/{ANA}/"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    app.stop().await.unwrap();
}

async fn a_source_that_is_not_the_original_is_refused_in_one_line(m: Move) {
    let fails_with = |output: Output, expected: &str| {
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    };
    m.execute(
        "ALTER TABLE github_repository DROP COLUMN owner_github_id; DROP TABLE auth_user CASCADE",
    )
    .await;
    fails_with(
        m.import(&[]),
        "half-migrated (missing github_repository.owner_github_id, table auth_user)",
    );
    let empty = Move {
        source: TestDb::create(Backend::Postgres).await.unwrap(),
        target: m.target.sibling().await,
    };
    fails_with(
        empty.import(&[]),
        "not the Django git-o-matic-9k's database",
    );
    let dir = tempfile::tempdir().unwrap();
    for (url, expected) in [
        (
            "postgres://nobody@127.0.0.1:1/django",
            "cannot connect to the Django database postgres://127.0.0.1:1/django",
        ),
        ("sqlite://django.db", "must be a PostgreSQL URL"),
    ] {
        let output = gitomatic(dir.path())
            .env("DATABASE_URL", &m.target.url)
            .args(["import", "django", url])
            .output()
            .unwrap();
        fails_with(output, expected);
    }
}

backend_tests!(
    every_record_answers_as_the_original_did,
    an_import_killed_half_way_goes_on_and_ends_equal,
    a_record_we_have_is_merged_and_its_imported_id_still_answers,
    a_source_that_is_not_the_original_is_refused_in_one_line,
);
