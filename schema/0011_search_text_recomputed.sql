-- cloudron-audit archive, schema version 11.
--
-- The events table no longer keeps a copy of each event's search text (source_text, data_text: the leaf
-- values of `source` and `data`, a third of the raw JSON's size). The FTS5 index keeps its columns and
-- its content="events" declaration (what Datasette and sqlite-utils look for to find it; their searches
-- read only the index): the text is recomputed from the raw JSON by the one derivation that indexed it
-- (Sources/Archiver/CurrentState.swift) wherever it is needed again: the FTS 'delete' of a replaced
-- version at ingest, search's snippets (Sources/Archiver/SearchSnippets.swift), and `verify`, which
-- compares the index with an index of the recomputed text. A query that reads the index's text columns
-- (snippet(), highlight(), SELECT source_text FROM events_fts) fails with "no such column"; MATCH, rowid
-- and bm25() work as before.
--
-- The table is rebuilt rather than ALTER TABLE DROP COLUMN'd: a dropped column's bytes would stay inside
-- the table's pages, which new rows (appended at the end) never fill again; rebuilt, the old pages go to
-- the freelist, where the archive's growth reuses them (VACUUM gives them back to the file system).
-- Row ids are kept: they are the index's rowids and what the version tables refer to. The migration runs
-- with foreign keys off (ArchiveSchema.prepare), as SQLite's procedure for rebuilding a table requires.
PRAGMA legacy_alter_table = ON;

CREATE TABLE events_rebuilt (
    id              INTEGER PRIMARY KEY,
    instance_id     INTEGER NOT NULL REFERENCES instances(id),
    api_id          TEXT NOT NULL,
    action          TEXT NOT NULL,
    creation_epoch  INTEGER NOT NULL,
    version         INTEGER NOT NULL,                  -- current version (event_versions.version)
    UNIQUE (instance_id, api_id)
);
-- The rows are copied here, every column events_rebuilt has, in batches with progress on a terminal
-- (Migration.copyRows in Sources/Archiver/ArchiveSchema.swift):
-- (the fill step runs here)
DROP TABLE events;
ALTER TABLE events_rebuilt RENAME TO events;

CREATE INDEX events_by_time ON events(instance_id, creation_epoch);
CREATE INDEX events_by_action ON events(action, creation_epoch);
CREATE INDEX events_by_creation ON events(creation_epoch, id);

PRAGMA legacy_alter_table = OFF;
