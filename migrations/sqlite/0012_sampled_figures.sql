-- The figures that cost a pass over the big tables (records by the age of their last sync,
-- stored edges against GitHub's counts) are counted with each ten-minute record sample and
-- read from the newest, instead of at every scrape and page load. Null in samples kept
-- before this.
ALTER TABLE record_samples ADD COLUMN figures TEXT;
