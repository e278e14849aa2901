//! The data model's guarantees, checked at the SQL level on both backends.

use gitomatic::db::{Db, Timestamp};
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
