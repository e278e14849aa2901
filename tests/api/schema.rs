//! The data model's guarantees, checked at the SQL level on both backends.

use gitomatic::db::developers::{ListedDeveloper, upsert_listed_stmt};
use gitomatic::db::repositories::{
    RepositoryCounts, RepositoryDetails, RepositoryRecord, Source, upsert_repositories_stmts,
};
use gitomatic::db::{Db, Pool, Timestamp};
use gitomatic::with_pool;
use uuid::Uuid;

use crate::helpers::{TestApp, backend_tests};

async fn insert_developer(db: &Db, github_id: i64, login: &str) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    let sql = "INSERT INTO developers (id, github_id, login, inserted_at) VALUES ($1, $2, $3, $4)";
    with_pool!(db, |pool| sqlx::query(sql)
        .bind(id)
        .bind(github_id)
        .bind(login)
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .map(|_| id))
}

async fn execute(db: &Db, sql: &str, a: Uuid, b: Uuid) -> Result<u64, sqlx::Error> {
    with_pool!(db, |pool| sqlx::query(sql)
        .bind(a)
        .bind(b)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
}

async fn count(db: &Db, sql: &str) -> i64 {
    with_pool!(db, |pool| sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap())
}

#[test]
fn both_backends_have_the_same_migrations() {
    let [sqlite, postgres] = Db::migration_versions();
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must stay in lockstep"
    );
}

async fn github_ids_are_unique(app: TestApp) {
    insert_developer(&app.db, 7, "octocat").await.unwrap();
    let again = insert_developer(&app.db, 7, "renamed").await;
    let err = again.expect_err("a second row with the same github_id");
    assert!(
        matches!(
            err.as_database_error().map(|e| e.kind()),
            Some(sqlx::error::ErrorKind::UniqueViolation)
        ),
        "{err}"
    );
}

async fn a_follow_is_stored_once_and_goes_with_its_developers(app: TestApp) {
    let ada = insert_developer(&app.db, 1, "ada").await.unwrap();
    let bob = insert_developer(&app.db, 2, "bob").await.unwrap();
    let follow =
        "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    assert_eq!(execute(&app.db, follow, ada, bob).await.unwrap(), 1);
    assert_eq!(
        execute(&app.db, follow, ada, bob).await.unwrap(),
        0,
        "the same edge again"
    );
    assert_eq!(
        execute(&app.db, follow, bob, ada).await.unwrap(),
        1,
        "the other direction"
    );
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM follows").await, 2);

    execute(
        &app.db,
        "DELETE FROM developers WHERE id = $1 OR id = $2",
        ada,
        ada,
    )
    .await
    .unwrap();
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM follows").await, 0);
}

async fn a_follow_needs_both_developers(app: TestApp) {
    let ada = insert_developer(&app.db, 1, "ada").await.unwrap();
    let follow = "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)";
    let err = execute(&app.db, follow, ada, Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.as_database_error().map(|e| e.kind()),
            Some(sqlx::error::ErrorKind::ForeignKeyViolation)
        ),
        "{err}"
    );
}

backend_tests!(
    github_ids_are_unique,
    a_follow_is_stored_once_and_goes_with_its_developers,
    a_follow_needs_both_developers,
);

async fn kept_totals_follow_inserts_upserts_and_deletes(app: TestApp) {
    let kept = "SELECT n FROM row_counts WHERE name = 'developers'";
    let ada = insert_developer(&app.db, 1, "ada").await.unwrap();
    insert_developer(&app.db, 2, "bob").await.unwrap();
    insert_developer(&app.db, 2, "bob-again")
        .await
        .expect_err("a duplicate github_id");
    assert_eq!(
        count(&app.db, kept).await,
        2,
        "a failed insert adds nothing"
    );

    // As the sync stores a page: one statement that inserts some rows and updates others.
    let upsert = "INSERT INTO developers (id, github_id, login, inserted_at) VALUES \
                  ($1, 2, 'bob', '2020-01-01T00:00:00Z'), ($2, 3, 'cy', '2020-01-01T00:00:00Z') \
                  ON CONFLICT (github_id) DO UPDATE SET login = excluded.login";
    execute(&app.db, upsert, Uuid::new_v4(), Uuid::new_v4())
        .await
        .unwrap();
    assert_eq!(count(&app.db, kept).await, 3, "only the new row counts");

    execute(
        &app.db,
        "DELETE FROM developers WHERE id = $1 OR id = $2",
        ada,
        ada,
    )
    .await
    .unwrap();
    assert_eq!(count(&app.db, kept).await, 2);
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM developers").await, 2);

    let (_, listed) = app.json("/github/developers/").await;
    assert_eq!(listed["count"], 2, "the list reads the kept total");
}

backend_tests!(kept_totals_follow_inserts_upserts_and_deletes,);

/// The plan of `query` as the backend explains it, one line a step.
async fn plan(db: &Db, query: &str) -> String {
    match db.pool() {
        Pool::Sqlite(pool) => {
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {query}"))
                    .fetch_all(pool)
                    .await
                    .unwrap();
            rows.into_iter()
                .map(|row| row.3)
                .collect::<Vec<_>>()
                .join("\n")
        }
        Pool::Postgres(pool) => {
            let rows: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {query}"))
                .fetch_all(pool)
                .await
                .unwrap();
            rows.join("\n")
        }
    }
}

/// GitHub's names ignore case, and so do the sync's lookups of a login or a full name
/// (`lower(login) = lower($1)`): an index on the lowered name serves them, so hydrating a
/// profile does not scan the developers.
async fn lookups_by_login_and_full_name_use_their_indexes(app: TestApp) {
    let now = Timestamp::now();
    let developers: Vec<ListedDeveloper> = (1..=3000)
        .map(|id| ListedDeveloper {
            github_id: id,
            login: format!("Dev-{id}"),
            node_id: None,
            raw: serde_json::json!({}),
        })
        .collect();
    let repositories: Vec<RepositoryRecord> = developers
        .iter()
        .map(|owner| RepositoryRecord {
            github_id: 100_000 + owner.github_id,
            node_id: None,
            owner: owner.clone(),
            details: RepositoryDetails {
                name: "tool".into(),
                full_name: format!("{}/tool", owner.login),
                ..RepositoryDetails::default()
            },
            counts: RepositoryCounts::default(),
            source: Source::RestList,
            collaborates: None,
            raw: serde_json::json!({}),
        })
        .collect();
    // As the sync writes them: a hundred to a statement.
    for (developers, repositories) in developers.chunks(100).zip(repositories.chunks(100)) {
        let mut statements: Vec<_> = upsert_listed_stmt(developers, now).into_iter().collect();
        statements.extend(upsert_repositories_stmts(repositories, now));
        app.db.run_in_transaction(&statements).await.unwrap();
    }
    let analyze = match app.db.pool() {
        Pool::Sqlite(_) => "ANALYZE",
        Pool::Postgres(_) => "ANALYZE developers, repositories",
    };
    with_pool!(&app.db, |pool| sqlx::query(analyze)
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
    let login = plan(
        &app.db,
        "SELECT github_id FROM developers WHERE lower(login) = lower('dev-42')",
    )
    .await;
    assert!(login.contains("developers_login_lower"), "{login}");
    let full_name = plan(
        &app.db,
        "SELECT github_id FROM repositories WHERE lower(full_name) = lower('dev-42/TOOL')",
    )
    .await;
    assert!(
        full_name.contains("repositories_full_name_lower"),
        "{full_name}"
    );
    eprintln!("a login's lookup:\n{login}\na full name's lookup:\n{full_name}");
}

backend_tests!(lookups_by_login_and_full_name_use_their_indexes,);
