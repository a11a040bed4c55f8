-- cloudron-audit archive, schema version 16.
--
-- The source-tamper check of every sync (Sources/Archiver/Sync/SourceTamperCheck.swift) reads the event
-- versions the run stored over an earlier one (version > 1: box's login rewrites, or an edit upstream).
-- Without an index on the run, SQLite found them by visiting every event of the instance and reading its
-- versions' rows: the whole event_versions table, raw JSON included, on every sync (a no-op sync of a 100k
-- archive read 85k pages; at 10M a sync would read gigabytes). Partial: only rewritten versions, a few in an
-- archive of box's data.
-- IF NOT EXISTS: an archive brought back to an earlier schema by hand (as the upgrade tests do) keeps it.
CREATE INDEX IF NOT EXISTS event_versions_rewrites_by_run ON event_versions(run_id) WHERE version > 1;
