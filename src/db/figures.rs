//! The figures that take a pass over the big tables: records by the age of their last sync,
//! how complete the graph is, and who takes the space. At a million developers and ten million edges a pass takes
//! from a fraction of a second to seconds, too dear for every `/metrics` scrape and page load,
//! so they are counted with the ten-minute record sample (`jobs::history`) and read from the
//! newest; a store with no sample yet counts them when asked.

use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use utoipa::ToSchema;

use super::freshness::Freshness;
use super::{Db, Timestamp};

/// The costly figures, as counted at `at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    pub at: Timestamp,
    pub freshness: Freshness,
    pub completeness: Completeness,
    /// Absent from samples kept before sizes were.
    #[serde(default)]
    pub space: Space,
}

/// Who takes the space: the kilobytes of the stored repositories GitHub still has, in all,
/// by language and by owner.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Space {
    pub kilobytes: i64,
    /// The ten languages whose repositories take the most, most first.
    pub languages: Vec<Taken>,
    /// The ten developers whose stored repositories take the most (`repositories_size`),
    /// most first.
    pub owners: Vec<Taken>,
}

/// The kilobytes a language's or an owner's repositories take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Taken {
    pub name: String,
    pub kilobytes: i64,
}

/// How many languages and owners `Space` names.
const TOP: i64 = 10;

/// How much of each list GitHub counts is stored: over the complete records (those whose own
/// profile or repository was read, and that GitHub still has), the edges stored against the
/// counts GitHub gave. A starred list has no count on GitHub's profile, so it is not here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Completeness {
    /// The complete developers' followers.
    pub followers: Coverage,
    /// The people the complete developers follow.
    pub following: Coverage,
    /// The complete repositories' stargazers, stored from their own lists or from the
    /// stargazers' starred lists.
    pub stargazers: Coverage,
}

impl Completeness {
    /// Each list, by name, as the metric labels them.
    pub fn lists(&self) -> [(&'static str, &Coverage); 3] {
        [
            ("followers", &self.followers),
            ("following", &self.following),
            ("stargazers", &self.stargazers),
        ]
    }
}

/// Edges stored, and the number GitHub's counts promise. Stored can pass GitHub's while its
/// counts are older than the edges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Coverage {
    pub stored: i64,
    pub github: i64,
}

/// `x`'s sum, as a BIGINT on both backends (PostgreSQL sums BIGINTs to NUMERIC).
macro_rules! summed {
    ($x:literal) => {
        concat!("CAST(COALESCE(SUM(", $x, "), 0) AS BIGINT)")
    };
}

/// The condition of a complete record that GitHub still has, on the alias `r`.
macro_rules! complete {
    () => {
        "r.synced_at IS NOT NULL AND r.gone_at IS NULL"
    };
}

impl Db {
    /// The costly figures: the newest sample's, or counted now when none is kept.
    pub async fn figures(&self) -> sqlx::Result<Figures> {
        match self.newest_figures().await? {
            Some(figures) => Ok(figures),
            None => self.count_figures().await,
        }
    }

    /// Counts the costly figures now.
    pub async fn count_figures(&self) -> sqlx::Result<Figures> {
        let at = Timestamp::now();
        Ok(Figures {
            at,
            freshness: self.freshness(at).await?,
            completeness: self.completeness().await?,
            space: self.space().await?,
        })
    }

    async fn space(&self) -> sqlx::Result<Space> {
        let kilobytes = with_pool!(self, |pool| sqlx::query_scalar(concat!(
            "SELECT ",
            summed!("size"),
            " FROM repositories WHERE gone_at IS NULL"
        ))
        .fetch_one(pool)
        .await)?;
        let languages = with_pool!(self, |pool| sqlx::query_as(
            "SELECT language AS name, CAST(SUM(size) AS BIGINT) AS kilobytes FROM repositories \
             WHERE gone_at IS NULL AND size IS NOT NULL AND language IS NOT NULL \
             GROUP BY language ORDER BY kilobytes DESC, name LIMIT $1"
        )
        .bind(TOP)
        .fetch_all(pool)
        .await)?;
        // The `repositories_size` index's order.
        let owners = with_pool!(self, |pool| sqlx::query_as(
            "SELECT login AS name, repositories_size AS kilobytes FROM developers \
             WHERE repositories_size IS NOT NULL \
             ORDER BY repositories_size DESC NULLS LAST, id LIMIT $1"
        )
        .bind(TOP)
        .fetch_all(pool)
        .await)?;
        Ok(Space {
            kilobytes,
            languages,
            owners,
        })
    }

    async fn completeness(&self) -> sqlx::Result<Completeness> {
        let sums: (i64, i64, i64, i64) = with_pool!(self, |pool| {
            sqlx::query_as(concat!(
            "SELECT ",
            summed!("r.followers_count"),
            ", ",
            summed!("r.following_count"),
            ", (SELECT COUNT(*) FROM follows f JOIN developers r ON r.id = f.followee_id WHERE ",
            complete!(),
            "), (SELECT COUNT(*) FROM follows f JOIN developers r ON r.id = f.follower_id WHERE ",
            complete!(),
            ") FROM developers r WHERE ",
            complete!()
        ))
        .fetch_one(pool)
        .await
        })?;
        let stars: (i64, i64) = with_pool!(self, |pool| sqlx::query_as(concat!(
            "SELECT ",
            summed!("r.stargazers_count"),
            ", (SELECT COUNT(*) FROM stars s JOIN repositories r ON r.id = s.repository_id \
             WHERE ",
            complete!(),
            ") FROM repositories r WHERE ",
            complete!()
        ))
        .fetch_one(pool)
        .await)?;
        Ok(Completeness {
            followers: Coverage {
                stored: sums.2,
                github: sums.0,
            },
            following: Coverage {
                stored: sums.3,
                github: sums.1,
            },
            stargazers: Coverage {
                stored: stars.1,
                github: stars.0,
            },
        })
    }

    /// The figures of the newest sample that has them.
    async fn newest_figures(&self) -> sqlx::Result<Option<Figures>> {
        let newest: Option<Json<Figures>> = with_pool!(self, |pool| {
            sqlx::query_scalar(
            "SELECT figures FROM record_samples WHERE figures IS NOT NULL ORDER BY at DESC LIMIT 1"
        )
        .fetch_optional(pool)
        .await
        })?;
        Ok(newest.map(|Json(figures)| figures))
    }

    /// Keeps `figures` with the sample of `bucket`.
    pub async fn save_figures(&self, bucket: Timestamp, figures: &Figures) -> sqlx::Result<()> {
        with_pool!(self, |pool| sqlx::query(
            "UPDATE record_samples SET figures = $2 WHERE at = $1"
        )
        .bind(bucket)
        .bind(Json(figures))
        .execute(pool)
        .await
        .map(drop))
    }
}
