//! Pages of a SQLite list whose filter looks a term up in a full-text index. Collecting
//! every match first (`Db::where_clause`) costs the same for page 1 as for all of them:
//! 0.9 s for a word in the bios of half of a million developers. Asked row by row in the
//! page's order (`Db::probing_clause`), the page stops at its last row: 22 ms for that word.
//! But where the matches are few, or all far down the order, the probes read row after row
//! in vain, so they get the time collecting would take, and the page is collected once that
//! is spent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::SqliteConnection;

use super::listing::{AnyRow, Listing};
use super::sql::{Sql, bind_values};
use super::{Db, Pool};

/// Collecting costs about this much a match (measured at a million developers: 0.9 s for
/// 500,000), and a probe about 40 µs a row it reads.
const COLLECTED_MATCH: Duration = Duration::from_micros(2);

/// Below this many matches collecting costs a couple of milliseconds: nothing to save.
const PROBED_FROM: i64 = 1_000;

/// The SQLite virtual machine's steps between looks at the clock.
const STEPS_BETWEEN_LOOKS: i32 = 1_000;

/// How long past its deadline a handler left behind may still interrupt.
const LATE: Duration = Duration::from_secs(1);

/// SQLite's result code for a statement interrupted (`SQLITE_INTERRUPT`).
const INTERRUPTED: &str = "9";

/// A list's filter with its lookups asked row by row, and how many rows the whole filter
/// matches (what collecting them would cost).
#[derive(Clone, Copy)]
pub struct Probing<'a> {
    pub filter: &'a Sql,
    pub count: i64,
}

impl Probing<'_> {
    /// The time the probes may take: what collecting would.
    fn budget(&self) -> Option<Duration> {
        let count = u32::try_from(self.count).unwrap_or(u32::MAX);
        (self.count >= PROBED_FROM).then(|| COLLECTED_MATCH * count)
    }
}

impl Db {
    /// `page`, probed first where `probing` says it pays: rows `offset..offset + limit` of
    /// `filter` in `order`, the same rows either way.
    pub async fn probed_page<T: AnyRow>(
        &self,
        listing: &Listing,
        (filter, probing): (&Sql, Option<Probing<'_>>),
        order: &str,
        limit: i64,
        offset: i64,
    ) -> sqlx::Result<Vec<T>> {
        if let Some(probing) = probing {
            let probed = self.probed(probing, async |connection| {
                let sql = listing.page_sql(probing.filter, order, "", offset);
                bind_values!(sqlx::query_as(&sql), &probing.filter.values)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(connection)
                    .await
            });
            if let Some(rows) = probed.await? {
                return Ok(rows);
            }
        }
        self.page(listing, filter, order, limit, offset).await
    }

    /// `run` (which asks with the probing filter) on one SQLite connection, within the time
    /// collecting would take: `None` where probing does not pay, or ran out of time.
    pub(super) async fn probed<T>(
        &self,
        probing: Probing<'_>,
        run: impl AsyncFnOnce(&mut SqliteConnection) -> sqlx::Result<T>,
    ) -> sqlx::Result<Option<T>> {
        let (Some(budget), Pool::Sqlite(pool)) = (probing.budget(), self.pool()) else {
            return Ok(None);
        };
        self.count_statement();
        let mut connection = pool.acquire().await?;
        let probed = within(&mut connection, budget, run).await?;
        if probed.is_none() {
            tracing::debug!(?budget, "probing a search ran out of time: collected");
        }
        Ok(probed)
    }
}

/// `query`'s answer on `connection`, or `None` where it ran longer than `budget` and was
/// interrupted.
async fn within<T>(
    connection: &mut SqliteConnection,
    budget: Duration,
    query: impl AsyncFnOnce(&mut SqliteConnection) -> sqlx::Result<T>,
) -> sqlx::Result<Option<T>> {
    let deadline = Instant::now() + budget;
    let armed = Arc::new(AtomicBool::new(true));
    let watched = armed.clone();
    // A query dropped before its end (its client gone) leaves the handler on the connection:
    // SQLite goes on with a statement that has produced no row yet, and the handler still
    // stops it at the deadline, then disarms itself. Where the dropped statement had ended
    // already, the handler may stop the one statement running on the connection as the
    // deadline passes (an error for that request), and nothing once `LATE` has passed.
    connection
        .lock_handle()
        .await?
        .set_progress_handler(STEPS_BETWEEN_LOOKS, move || {
            let now = Instant::now();
            let due = now >= deadline && now < deadline + LATE;
            !(due && watched.swap(false, Ordering::Relaxed))
        });
    let answer = query(connection).await;
    armed.store(false, Ordering::Relaxed);
    connection.lock_handle().await?.remove_progress_handler();
    match answer {
        Err(sqlx::Error::Database(err)) if err.code().as_deref() == Some(INTERRUPTED) => Ok(None),
        other => other.map(Some),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::{Connection, SqliteConnection};

    use super::within;

    /// Counts to `n` the slow way: a statement of some 10 steps a row.
    async fn count_to(connection: &mut SqliteConnection, n: i64) -> sqlx::Result<i64> {
        sqlx::query_scalar(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
             SELECT count(*) FROM n",
        )
        .bind(n)
        .fetch_one(connection)
        .await
    }

    #[tokio::test]
    async fn a_query_past_its_budget_is_interrupted_and_the_connection_stays_as_it_was() {
        let mut connection = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let long = within(&mut connection, Duration::from_millis(1), async |c| {
            count_to(c, 100_000_000).await
        })
        .await
        .unwrap();
        assert_eq!(long, None, "interrupted");
        let short = within(&mut connection, Duration::from_secs(60), async |c| {
            count_to(c, 1_000).await
        })
        .await
        .unwrap();
        assert_eq!(short, Some(1_000));
        // No handler is left to interrupt what runs next, however long.
        assert_eq!(
            count_to(&mut connection, 1_000_000).await.unwrap(),
            1_000_000
        );
    }

    /// A query dropped while SQLite still works on it (its client gone) is stopped at its
    /// deadline, not left to run for as long as it takes, and the handler it leaves behind
    /// stops nothing after.
    #[tokio::test]
    async fn a_query_dropped_midway_is_still_stopped_at_its_deadline() {
        let mut connection = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let dropped = tokio::time::timeout(
            Duration::from_millis(20),
            within(&mut connection, Duration::from_millis(100), async |c| {
                count_to(c, 1_000_000_000).await
            }),
        )
        .await;
        assert!(dropped.is_err(), "still running when dropped");
        // The billion would take minutes; the connection answers once it is stopped.
        let started = std::time::Instant::now();
        assert_eq!(count_to(&mut connection, 1_000).await.unwrap(), 1_000);
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            count_to(&mut connection, 1_000_000).await.unwrap(),
            1_000_000
        );
    }
}
