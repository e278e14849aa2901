//! Large counts, remembered a while. DRF's page-number lists carry the exact `count` of
//! what the filters match; for a common search word or a popular language that is hundreds
//! of thousands of rows, which costs more than the page itself many times over (on
//! PostgreSQL a trigram match rechecks every row it counts). A count of at least
//! `count_cache_rows` is kept for `count_cache_seconds` and served again meanwhile: a
//! total that large moves by a few records a minute, while a small count, cheap to take, is
//! always exact. Each process keeps its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::listing::Listing;
use super::sql::Sql;

/// How many distinct filters are remembered at most; past it the expired go, and if none
/// had, all do (the next requests count again).
const REMEMBERED: usize = 1_024;

pub struct CountCache {
    lifetime: Duration,
    /// The smallest count that is remembered.
    rows: i64,
    counts: Mutex<HashMap<String, (i64, Instant)>>,
}

/// What a count is remembered by: the table, the WHERE clause and its bound values.
pub struct CountKey(Option<String>);

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

    /// The count remembered under `key`, while it is fresh.
    pub fn get(&self, key: &CountKey) -> Option<i64> {
        let key = key.0.as_ref()?;
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        counts
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.lifetime)
            .map(|(count, _)| *count)
    }

    /// Remembers `count` under `key` when it is large enough to be worth it.
    pub fn put(&self, key: CountKey, count: i64) {
        let Some(key) = key.0.filter(|_| count >= self.rows) else {
            return;
        };
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if counts.len() >= REMEMBERED && !counts.contains_key(&key) {
            counts.retain(|_, (_, at)| at.elapsed() < self.lifetime);
            if counts.len() >= REMEMBERED {
                counts.clear();
            }
        }
        counts.insert(key, (count, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
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
    fn only_large_counts_of_a_filter_are_remembered() {
        let cache = CountCache::new(Duration::from_secs(60), 1_000);
        let berlin = filtered("Berlin");
        cache.put(cache.key(&DEVELOPERS, &berlin), 999);
        assert_eq!(cache.get(&cache.key(&DEVELOPERS, &berlin)), None);
        cache.put(cache.key(&DEVELOPERS, &berlin), 1_000);
        assert_eq!(cache.get(&cache.key(&DEVELOPERS, &berlin)), Some(1_000));
        // Another bound value is another filter.
        assert_eq!(
            cache.get(&cache.key(&DEVELOPERS, &filtered("Lisbon"))),
            None
        );
        // The whole table's kept total is cheap: never remembered.
        let all = Sql::default();
        cache.put(cache.key(&DEVELOPERS, &all), 5_000);
        assert_eq!(cache.get(&cache.key(&DEVELOPERS, &all)), None);
    }

    #[test]
    fn a_zero_lifetime_remembers_nothing_and_a_full_cache_starts_again() {
        let never = CountCache::new(Duration::ZERO, 1);
        never.put(never.key(&DEVELOPERS, &filtered("x")), 10);
        assert_eq!(never.get(&never.key(&DEVELOPERS, &filtered("x"))), None);
        let cache = CountCache::new(Duration::from_secs(60), 1);
        for n in 0..=REMEMBERED {
            cache.put(cache.key(&DEVELOPERS, &filtered(&n.to_string())), 5);
        }
        // The last one found the cache full of fresh counts and started it again.
        assert_eq!(cache.counts.lock().unwrap().len(), 1);
    }
}
