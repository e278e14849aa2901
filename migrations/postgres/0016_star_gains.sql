-- Each week of a star history keeps the stars from it to the latest week stored
-- (`since_total`), and whether it is its repository's first (`first_week`). GitHub's history
-- has a row for every week from the first to the latest, so the stars gained since a week are
-- one row's, and "what gained the most since" reads an index instead of summing every
-- repository's weeks.
ALTER TABLE star_weeks ADD COLUMN since_total BIGINT NOT NULL DEFAULT 0;
ALTER TABLE star_weeks ADD COLUMN first_week BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE star_weeks SET since_total = t.since_total, first_week = t.first_week FROM (
    SELECT repository_id, week,
           CAST(SUM(stars) OVER (PARTITION BY repository_id ORDER BY week DESC) AS BIGINT)
               AS since_total,
           ROW_NUMBER() OVER (PARTITION BY repository_id ORDER BY week) = 1 AS first_week
    FROM star_weeks
) AS t
WHERE star_weeks.repository_id = t.repository_id AND star_weeks.week = t.week;

-- The repositories whose history holds the week, most stars since first; and those whose
-- history begins after it, by their whole history.
CREATE INDEX star_weeks_gained ON star_weeks (week, since_total DESC NULLS LAST, repository_id)
    WHERE since_total > 0;
CREATE INDEX star_weeks_first_gained ON star_weeks (week, since_total DESC NULLS LAST, repository_id)
    WHERE first_week AND since_total > 0;
