//! Large counts, remembered a while. DRF's page-number lists carry the exact `count` of
//! what the filters match; for a common search word or a popular language that is hundreds
//! of thousands of rows, which costs more than the page itself many times over (on
//! PostgreSQL a trigram match rechecks every row it counts). A count of at least
//! `count_cache_rows` is kept for `count_cache_seconds` and served again meanwhile: a
//! total that large moves by a few records a minute, while a small count, cheap to take, is
//! always exact. Requests that find no count at once wait for one of them to count, rather
//! than each counting the same rows. A large count past its lifetime is still served while
//! one count, in the background, takes its place: no request waits for a count again once
//! one was taken, where waiting was a spike of a second or two once a minute. Each process
//! keeps its own.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use super::listing::Listing;
use super::sql::Sql;

/// How many distinct filters are remembered at most; past it the expired go, and if none
/// had, all do (the next requests count again).
const REMEMBERED: usize = 1_024;

pub struct CountCache {
    lifetime: Duration,
    /// The smallest count that is served again.
    rows: i64,
    counts: Mutex<HashMap<String, Slot>>,
}

/// A filter's count, once one request has taken it, and when that began; and the count it
/// replaces, served while it is being taken again.
#[derive(Clone)]
struct Slot {
    count: Arc<OnceCell<i64>>,
    at: Instant,
    before: Option<i64>,
}

impl Slot {
    fn new(count: Option<i64>, before: Option<i64>) -> Self {
        Self {
            count: Arc::new(OnceCell::new_with(count)),
            at: Instant::now(),
            before,
        }
    }

    /// The count taken, or else the one it replaces.
    fn last(&self) -> Option<i64> {
        self.count.get().copied().or(self.before)
    }
}

/// What a count is remembered by: the table, the WHERE clause and its bound values.
pub struct CountKey(Option<String>);

/// What is known of a filter's count.
#[derive(Debug, PartialEq, Eq)]
pub enum Known {
    /// Large, and fresh (or being counted again): serve it.
    Large(i64),
    /// Large, and past its lifetime: serve it, and count again in the background
    /// (`recount`).
    Stale(i64),
    /// Small when last counted: count it exactly again, as cheaply as possible.
    Small,
    /// Not counted lately: count it once for every request asking (`count_once`).
    Unknown,
}

impl CountCache {
    /// `lifetime` zero remembers nothing: every count is exact.
    pub fn new(lifetime: Duration, rows: i64) -> Self {
        Self {
            lifetime,
            rows,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// The key of `filter` on `listing`; none for a count that is already cheap (the kept
    /// total of an unfiltered table) or when nothing is remembered.
    pub fn key(&self, listing: &Listing, filter: &Sql) -> CountKey {
        let cheap = listing.counted && filter.sql.is_empty();
        CountKey((!cheap && !self.lifetime.is_zero()).then(|| {
            format!(
                "{}\u{0}{}\u{0}{:?}",
                listing.table, filter.sql, filter.values
            )
        }))
    }

    fn locked(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        self.counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn fresh(&self, key: &str) -> Option<Slot> {
        self.locked()
            .get(key)
            .filter(|slot| slot.at.elapsed() < self.lifetime)
            .cloned()
    }

    /// What is known of the count under `key`. A key that is never remembered is `Small`:
    /// always counted exactly.
    pub fn known(&self, key: &CountKey) -> Known {
        let Some(key) = key.0.as_ref() else {
            return Known::Small;
        };
        let Some(slot) = self.locked().get(key).cloned() else {
            return Known::Unknown;
        };
        let fresh = slot.at.elapsed() < self.lifetime;
        match (fresh, slot.count.get().copied(), slot.last()) {
            (true, Some(count), _) if count < self.rows => Known::Small,
            (true, _, Some(count)) if count >= self.rows => Known::Large(count),
            (false, _, Some(count)) if count >= self.rows => Known::Stale(count),
            // Being counted for the first time, or small and old: `count_once` waits for it
            // or takes it.
            _ => Known::Unknown,
        }
    }

    /// Counts again with `count`, in the background, what `known` found stale, unless
    /// another request already began to; the stale count is served until it is done (a
    /// failed count leaves it to be tried again once this one is stale in turn).
    pub fn recount<F>(&self, key: &CountKey, count: F)
    where
        F: Future<Output = sqlx::Result<i64>> + Send + 'static,
    {
        let Some(key) = key.0.as_ref() else {
            return;
        };
        let cell = {
            let mut counts = self.locked();
            let Some(stale) = counts
                .get(key)
                .filter(|slot| slot.at.elapsed() >= self.lifetime)
            else {
                return;
            };
            let slot = Slot::new(None, stale.last());
            let cell = Arc::clone(&slot.count);
            counts.insert(key.clone(), slot);
            cell
        };
        tokio::spawn(async move {
            match count.await {
                Ok(count) => {
                    let _ = cell.set(count);
                }
                Err(err) => tracing::warn!(error = %err, "cannot count a page's rows again"),
            }
        });
    }

    /// The count under `key`, taken by `count` unless a fresh one is remembered or another
    /// request is taking it (then its count, once taken).
    pub async fn count_once<F>(&self, key: &CountKey, count: F) -> sqlx::Result<i64>
    where
        F: Future<Output = sqlx::Result<i64>>,
    {
        let Some(key) = key.0.as_ref() else {
            return count.await;
        };
        let slot = match self.fresh(key) {
            Some(slot) => slot,
            None => {
                let slot = Slot::new(None, None);
                self.insert(key.clone(), slot.clone());
                slot
            }
        };
        slot.count.get_or_try_init(|| count).await.copied()
    }

    /// Remembers a count taken exactly elsewhere (the total a counted page carried).
    pub fn put(&self, key: CountKey, count: i64) {
        if let Some(key) = key.0 {
            self.insert(key, Slot::new(Some(count), None));
        }
    }

    fn insert(&self, key: String, slot: Slot) {
        let mut counts = self.locked();
        if counts.len() >= REMEMBERED && !counts.contains_key(&key) {
            counts.retain(|_, slot| slot.at.elapsed() < self.lifetime);
            if counts.len() >= REMEMBERED {
                counts.clear();
            }
        }
        counts.insert(key, slot);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::db::developers::DEVELOPERS;
    use crate::db::sql::SqlValue;

    fn filtered(value: &str) -> Sql {
        let mut sql = Sql::default();
        let placeholder = sql.bind(SqlValue::Text(value.to_owned()));
        sql.sql = format!(" WHERE location = {placeholder}");
        sql
    }

    #[test]
    fn only_large_counts_of_a_filter_are_served_again() {
        let cache = CountCache::new(Duration::from_secs(60), 1_000);
        let key = || cache.key(&DEVELOPERS, &filtered("Berlin"));
        assert_eq!(cache.known(&key()), Known::Unknown);
        cache.put(key(), 999);
        assert_eq!(cache.known(&key()), Known::Small);
        cache.put(key(), 1_000);
        assert_eq!(cache.known(&key()), Known::Large(1_000));
        // Another bound value is another filter.
        let lisbon = cache.key(&DEVELOPERS, &filtered("Lisbon"));
        assert_eq!(cache.known(&lisbon), Known::Unknown);
        // The whole table's kept total is cheap: always counted.
        let all = Sql::default();
        cache.put(cache.key(&DEVELOPERS, &all), 5_000);
        assert_eq!(cache.known(&cache.key(&DEVELOPERS, &all)), Known::Small);
    }

    #[test]
    fn a_zero_lifetime_remembers_nothing_and_a_full_cache_starts_again() {
        let never = CountCache::new(Duration::ZERO, 1);
        never.put(never.key(&DEVELOPERS, &filtered("x")), 10);
        assert_eq!(
            never.known(&never.key(&DEVELOPERS, &filtered("x"))),
            Known::Small
        );
        let cache = CountCache::new(Duration::from_secs(60), 1);
        for n in 0..=REMEMBERED {
            cache.put(cache.key(&DEVELOPERS, &filtered(&n.to_string())), 5);
        }
        // The last one found the cache full of fresh counts and started it again.
        assert_eq!(cache.locked().len(), 1);
    }

    #[tokio::test]
    async fn requests_at_once_count_once() {
        let cache = CountCache::new(Duration::from_secs(60), 1_000);
        let taken = AtomicUsize::new(0);
        let count = || async {
            taken.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok(5_000)
        };
        let key = || cache.key(&DEVELOPERS, &filtered("Berlin"));
        let keys = [key(), key(), key()];
        let (a, b, c) = tokio::join!(
            cache.count_once(&keys[0], count()),
            cache.count_once(&keys[1], count()),
            cache.count_once(&keys[2], count()),
        );
        assert_eq!((a.unwrap(), b.unwrap(), c.unwrap()), (5_000, 5_000, 5_000));
        assert_eq!(taken.load(Ordering::SeqCst), 1);
        assert_eq!(cache.known(&key()), Known::Large(5_000));
    }

    #[tokio::test]
    async fn a_stale_large_count_is_served_while_one_count_replaces_it() {
        let lifetime = Duration::from_millis(40);
        let cache = CountCache::new(lifetime, 1_000);
        let key = || cache.key(&DEVELOPERS, &filtered("Berlin"));
        cache.put(key(), 5_000);
        tokio::time::sleep(lifetime).await;
        assert_eq!(cache.known(&key()), Known::Stale(5_000));
        let taken = Arc::new(AtomicUsize::new(0));
        let (done, counted) = tokio::sync::oneshot::channel::<()>();
        let count = |result: sqlx::Result<i64>| {
            let taken = Arc::clone(&taken);
            async move {
                taken.fetch_add(1, Ordering::SeqCst);
                result
            }
        };
        cache.recount(&key(), async move {
            let _ = counted.await;
            Ok(6_000)
        });
        // Being counted: the stale count serves, and no second count begins.
        assert_eq!(cache.known(&key()), Known::Large(5_000));
        cache.recount(&key(), count(Ok(7_000)));
        done.send(()).unwrap();
        let landed = async {
            while cache.known(&key()) != Known::Large(6_000) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), landed)
            .await
            .expect("the count replaces the stale one");
        tokio::task::yield_now().await;
        assert_eq!(taken.load(Ordering::SeqCst), 0, "counted once");

        // A count that fails leaves the last one served, and tried again once stale.
        tokio::time::sleep(lifetime).await;
        cache.recount(&key(), count(Err(sqlx::Error::RowNotFound)));
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(taken.load(Ordering::SeqCst), 1);
        assert_eq!(cache.known(&key()), Known::Large(6_000));
        tokio::time::sleep(lifetime).await;
        assert_eq!(cache.known(&key()), Known::Stale(6_000));
    }
}
