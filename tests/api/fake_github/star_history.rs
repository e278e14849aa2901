//! GitHub's star history (`GET /repos/{owner}/{repo}/stargazers/history`, since 2026-09-04):
//! a repository's stars by week, newest first, with no stargazer named, open to every caller
//! while the stargazer lists are restricted.

use chrono::DateTime;
use serde_json::{Value, json};

const DAY: i64 = 86_400;
/// GitHub pages it by at most 30 weeks, and at most 100 pages.
pub const WEEKS_A_PAGE: usize = 30;
pub const PAGES: usize = 100;

/// One week from its Sunday, 00:00 UTC: the stars given each day that still stand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Week {
    pub start: i64,
    pub days: [i64; 7],
}

impl Week {
    pub fn stars(&self) -> i64 {
        self.days.iter().sum()
    }

    pub fn json(&self) -> Value {
        json!({"week": self.start, "total": self.stars(), "days": self.days})
    }
}

/// The Sunday 00:00 UTC that begins the week of `at` (1970-01-01 was a Thursday).
pub fn week_start(at: i64) -> i64 {
    let day = at.div_euclid(DAY);
    (day - (day + 4).rem_euclid(7)) * DAY
}

/// Every week from that of the first star to the current one, newest first.
pub fn weeks<'a>(starred_at: impl Iterator<Item = &'a str>, now: i64) -> Vec<Week> {
    let times: Vec<i64> = starred_at
        .filter_map(|at| DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.timestamp())
        .collect();
    let Some(first) = times.iter().min().map(|&at| week_start(at)) else {
        return Vec::new();
    };
    let current = week_start(now);
    let count = ((current - first) / (7 * DAY) + 1) as usize;
    let mut weeks: Vec<Week> = (0..count)
        .map(|n| Week {
            start: current - n as i64 * 7 * DAY,
            days: [0; 7],
        })
        .collect();
    for at in times {
        let index = ((current - week_start(at)) / (7 * DAY)) as usize;
        weeks[index].days[((at - week_start(at)) / DAY) as usize] += 1;
    }
    weeks
}
