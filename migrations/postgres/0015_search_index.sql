-- SQLite's 0015 adds full-text indexes for `?search=` and `__contains`. PostgreSQL's
-- trigram indexes of 0010 already answer them; the two folders keep the same numbers.
SELECT 1;
