-- The refresh re-checks the repositories synced longest ago first.
CREATE INDEX repositories_synced_at ON repositories (synced_at);
