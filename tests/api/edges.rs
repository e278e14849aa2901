//! Sweeps keep what a pass saw. One mark serves both lists that show an edge, and passes over
//! the two lists write it in any order: a later pass marks the edge, an older pass's page is
//! then stored with an older time, and the later pass's sweep must keep the edge it saw.

use chrono::Duration;
use gitomatic::db::edges::{Edge, link_stmt, sweep_stmt, touch_stmt};
use gitomatic::db::{Db, Timestamp};
use gitomatic::with_pool;

use crate::helpers::{TestDb, backend_tests};
use crate::seed;

const ALICE: i64 = 1;
const BOB: i64 = 2;
const REPO: i64 = 10;

async fn two_developers_and_a_repository(test_db: &TestDb) -> Db {
    let db = test_db.connect().await;
    db.migrate().await.unwrap();
    let alice = seed::developer(&db, seed::dev(ALICE, "alice")).await;
    seed::developer(&db, seed::dev(BOB, "bob")).await;
    seed::repository(&db, seed::repo(REPO, (alice, ALICE, "alice"), "tool")).await;
    db
}

async fn edges(db: &Db) -> (i64, i64) {
    with_pool!(db, |pool| sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM follows), (SELECT COUNT(*) FROM stars)"
    )
    .fetch_one(pool)
    .await
    .unwrap())
}

/// `earlier` < `later_pass` < `later_seen`: the times of the bad order.
fn times() -> (Timestamp, Timestamp, Timestamp) {
    let now = Timestamp::now().0;
    (
        Timestamp(now - Duration::seconds(30)),
        Timestamp(now - Duration::seconds(20)),
        Timestamp(now - Duration::seconds(10)),
    )
}

async fn an_edge_a_later_pass_saw_survives_its_sweep_whatever_an_older_pass_writes(
    test_db: TestDb,
) {
    let db = two_developers_and_a_repository(&test_db).await;
    // (list of the later pass, its subject, the other list of the edge, its subject, item)
    let pairs = [
        (Edge::Following, ALICE, Edge::Followers, BOB, BOB, ALICE),
        (Edge::Followers, BOB, Edge::Following, ALICE, ALICE, BOB),
        (Edge::Starred, ALICE, Edge::Stargazers, REPO, REPO, ALICE),
        (Edge::Stargazers, REPO, Edge::Starred, ALICE, ALICE, REPO),
    ];
    for (later, subject, older, other, item, other_item) in pairs {
        let (earlier, later_pass, later_seen) = times();
        // The later pass (begun at `later_pass`) stores the edge; then a page of an older
        // pass over the other list is stored, marked with an older time; then the later pass
        // ends and sweeps.
        let link = link_stmt(later, subject, &[(item, None)], later_seen).unwrap();
        let stale = link_stmt(older, other, &[(other_item, None)], earlier).unwrap();
        let sweep = sweep_stmt(later, subject, later_pass);
        db.run_in_transaction(&[link, stale, sweep]).await.unwrap();
        let (follows, stars) = edges(&db).await;
        assert_eq!(
            follows + stars,
            1,
            "{later:?} of {subject} swept an edge it saw, after an older {older:?} pass stored it"
        );
        // A 304 page of an older pass lowers nothing either.
        let touched = touch_stmt(older, other, &[other_item], earlier).unwrap();
        let sweep = sweep_stmt(later, subject, later_pass);
        db.run_in_transaction(&[touched, sweep]).await.unwrap();
        assert_eq!(
            edges(&db).await,
            (follows, stars),
            "after a 304 of {older:?}"
        );
        // A pass begun after every mark, which did not see the edge, drops it.
        let sweep = sweep_stmt(later, subject, Timestamp::now());
        db.run_in_transaction(&[sweep]).await.unwrap();
        assert_eq!(
            edges(&db).await,
            (0, 0),
            "a complete pass that did not see it"
        );
    }
}

backend_tests!(an_edge_a_later_pass_saw_survives_its_sweep_whatever_an_older_pass_writes,);
