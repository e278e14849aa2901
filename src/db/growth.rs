//! How repositories grew since a day (`?since=YYYY-MM-DD`): `stars_gained`, the stars of
//! GitHub's star history from the week that holds the day (its weeks start on Sunday), and
//! `size_growth`, the size now less the size the history held as the day began (or, when it
//! starts later, the first it holds). Each is an SQL expression over a row of `repositories`, for
//! the list's order, and read for a page's rows.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::Db;
use super::columns::bind_all;
use super::sql::{Sql, SqlValue, bind_values};

/// The day growth is counted from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Since(pub NaiveDate);

/// A repository's growth since the day; null where what it is counted from is unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Growth {
    pub stars_gained: Option<i64>,
    pub size_growth: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct GrowthRow {
    id: Uuid,
    #[sqlx(flatten)]
    growth: Growth,
}

impl Since {
    /// `YYYY-MM-DD`, as Django's date fields read it (years 1 to 9999, as Python's dates).
    pub fn parse(text: &str) -> Option<Self> {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .ok()
            .filter(|day| (1..=9999).contains(&day.year()))
            .map(Self)
    }

    /// A literal of the instant `day` begins, in the text both backends compare times by
    /// (fixed width, so SQLite's text order is time order). Made from a parsed date, so it
    /// holds nothing but digits and separators.
    fn literal(day: NaiveDate) -> String {
        format!("'{}T00:00:00.000000Z'", day.format("%Y-%m-%d"))
    }

    /// The Sunday that begins the week holding the day, as a literal.
    fn week(&self) -> String {
        let sunday =
            self.0 - chrono::Duration::days(i64::from(self.0.weekday().num_days_from_sunday()));
        Self::literal(sunday)
    }

    /// The stars gained since the day, for the row of `repositories`: the running total of
    /// its first week from the day's on (its history has every week from the first star to
    /// the latest read; none that late gained nothing). Null until its whole history was
    /// read.
    pub fn stars_gained(&self) -> String {
        format!(
            "(CASE WHEN repositories.star_history_at IS NULL THEN NULL ELSE COALESCE(\
             (SELECT w.since_total FROM star_weeks w \
              WHERE w.repository_id = repositories.id AND w.week >= {} \
              ORDER BY w.week LIMIT 1), 0) END)",
            self.week()
        )
    }

    /// The repositories that gained stars since the day, with how many (`Lead::parts`): those
    /// whose history holds the day's week, by that week's running total, and those whose
    /// history begins after it, by their first week's. Two index ranges, the first in the
    /// order of the list.
    pub fn stars_gained_lead(&self) -> Vec<String> {
        let week = self.week();
        let rows = "SELECT w.repository_id AS id, w.since_total AS lead FROM star_weeks w WHERE";
        vec![
            format!("{rows} w.week = {week} AND w.since_total > 0"),
            format!("{rows} w.week > {week} AND w.first_week AND w.since_total > 0"),
        ]
    }

    /// How much the row of `repositories` grew since the day, in kilobytes.
    pub fn size_growth(&self) -> String {
        format!(
            "(repositories.size - COALESCE(\
             (SELECT h.size FROM repository_sizes h WHERE h.repository_id = repositories.id \
              AND h.at < {} ORDER BY h.at DESC LIMIT 1), \
             (SELECT h.size FROM repository_sizes h WHERE h.repository_id = repositories.id \
              ORDER BY h.at LIMIT 1)))",
            Self::literal(self.0)
        )
    }
}

impl Db {
    /// The growth since `since` of the repositories `ids`.
    pub async fn growth(&self, ids: &[Uuid], since: Since) -> sqlx::Result<HashMap<Uuid, Growth>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut sql = Sql::default();
        let ids = bind_all(&mut sql, ids.iter().map(|id| SqlValue::Id(*id)).collect());
        sql.sql = format!(
            "SELECT id, {} AS stars_gained, {} AS size_growth FROM repositories WHERE id IN ({})",
            since.stars_gained(),
            since.size_growth(),
            ids.join(", ")
        );
        let rows: Vec<GrowthRow> = with_pool!(self, |pool| bind_values!(
            sqlx::query_as(&sql.sql),
            &sql.values
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(|row| (row.id, row.growth)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_four_digits_of_year_and_a_real_date() {
        assert!(Since::parse("2026-11-01").is_some());
        assert!(Since::parse(" 0001-01-01 ").is_some());
        for text in [
            "2026-02-30",
            "-0001-01-01",
            "10000-01-01",
            "2026-11-01T00:00",
            "",
            "x",
        ] {
            assert!(Since::parse(text).is_none(), "{text}");
        }
    }

    #[test]
    fn stars_count_from_the_sunday_of_the_week_that_holds_the_day() {
        let wednesday = Since::parse("2026-11-04").unwrap();
        assert!(
            wednesday
                .stars_gained()
                .contains("'2026-11-01T00:00:00.000000Z'")
        );
        assert!(
            wednesday
                .size_growth()
                .contains("'2026-11-04T00:00:00.000000Z'")
        );
    }
}
