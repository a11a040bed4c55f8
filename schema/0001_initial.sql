-- cloudron-audit archive, schema version 1.
--
-- Layout: each archived object kind has a current-state table (one row per API id, what queries
-- and full-text search read) and a version table (every distinct content ever seen for that id,
-- with the raw JSON exactly as received). The raw JSON is stored once, in the version tables.
--
-- Version rows and task logs are "chain records": their INTEGER PRIMARY KEY is drawn from one
-- sequence shared by event_versions, notification_versions, task_versions and task_logs (1, 2, 3, ...
-- without holes), which is the archive order of the hash chain; chain_link is
-- SHA-256(previous link || canonical bytes of the record). See Sources/Archiver/HashChain.swift.
--
-- Times: *_epoch and *_at columns are seconds since the Unix epoch (UTC); task log lines carry the
-- server's microsecond timestamps.

CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  INTEGER NOT NULL
);

-- Several Cloudron servers can share one archive. Never holds a token.
CREATE TABLE instances (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    base_url    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- One row per `sync` invocation. chain_length/chain_head are the hash chain's head when the run
-- finished: an anchor that `status` prints and that users can keep elsewhere.
CREATE TABLE sync_runs (
    id           INTEGER PRIMARY KEY,
    instance_id  INTEGER NOT NULL REFERENCES instances(id),
    streams      TEXT NOT NULL,                        -- comma-separated stream names
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    result       TEXT NOT NULL DEFAULT 'running'
                 CHECK (result IN ('running', 'success', 'gap', 'failed', 'interrupted')),
    counts       TEXT,                                 -- JSON: per stream inserted/changed/unchanged
    requests     INTEGER NOT NULL DEFAULT 0,
    errors       TEXT NOT NULL DEFAULT '[]',           -- JSON array of one-line messages
    chain_length INTEGER,
    chain_head   BLOB
);
CREATE INDEX sync_runs_by_instance ON sync_runs(instance_id, id);

-- Event log: current state. id is the FTS rowid (INTEGER PRIMARY KEY survives VACUUM).
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    instance_id     INTEGER NOT NULL REFERENCES instances(id),
    api_id          TEXT NOT NULL,
    action          TEXT NOT NULL,
    creation_epoch  INTEGER NOT NULL,
    version         INTEGER NOT NULL,                  -- current version (event_versions.version)
    source_text     TEXT NOT NULL,                     -- leaf values of `source`, for search
    data_text       TEXT NOT NULL,                     -- leaf values of `data`, for search
    UNIQUE (instance_id, api_id)
);
CREATE INDEX events_by_time ON events(instance_id, creation_epoch);
CREATE INDEX events_by_action ON events(action, creation_epoch);

CREATE TABLE event_versions (
    id              INTEGER PRIMARY KEY,               -- chain sequence number
    event_id        INTEGER NOT NULL REFERENCES events(id),
    version         INTEGER NOT NULL,                  -- 1, 2, ... per event
    raw             TEXT NOT NULL,                     -- the object's JSON as received
    content_hash    BLOB NOT NULL,                     -- SHA-256 of raw
    creation_epoch  INTEGER NOT NULL,
    first_seen_at   INTEGER NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES sync_runs(id),
    chain_link      BLOB NOT NULL,
    UNIQUE (event_id, version)
);

-- content="events" (double quotes) is what Datasette's FTS detection looks for.
CREATE VIRTUAL TABLE events_fts USING fts5(
    action, source_text, data_text,
    content="events", content_rowid="id"
);

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    instance_id     INTEGER NOT NULL REFERENCES instances(id),
    api_id          TEXT NOT NULL,
    event_api_id    TEXT,                              -- null for alerts (rewritten in place by title)
    title           TEXT NOT NULL,
    message         TEXT NOT NULL,
    creation_epoch  INTEGER NOT NULL,
    acknowledged    INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    UNIQUE (instance_id, api_id)
);

CREATE TABLE notification_versions (
    id              INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL REFERENCES notifications(id),
    version         INTEGER NOT NULL,
    raw             TEXT NOT NULL,
    content_hash    BLOB NOT NULL,
    creation_epoch  INTEGER NOT NULL,
    first_seen_at   INTEGER NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES sync_runs(id),
    chain_link      BLOB NOT NULL,
    UNIQUE (notification_id, version)
);

CREATE VIRTUAL TABLE notifications_fts USING fts5(
    title, message,
    content="notifications", content_rowid="id"
);

CREATE TABLE tasks (
    id              INTEGER PRIMARY KEY,
    instance_id     INTEGER NOT NULL REFERENCES instances(id),
    api_id          TEXT NOT NULL,
    type            TEXT NOT NULL,
    message         TEXT NOT NULL,                     -- '' when none
    error_message   TEXT NOT NULL,                     -- '' when none
    percent         INTEGER NOT NULL,
    active          INTEGER NOT NULL,
    pending         INTEGER,                           -- null on 2019 servers
    success         INTEGER,                           -- null until finished / on 2019 servers
    finished        INTEGER NOT NULL,                  -- neither active nor pending
    creation_epoch  INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    UNIQUE (instance_id, api_id)
);
CREATE INDEX tasks_finished ON tasks(instance_id, finished, creation_epoch);

CREATE TABLE task_versions (
    id              INTEGER PRIMARY KEY,
    task_id         INTEGER NOT NULL REFERENCES tasks(id),
    version         INTEGER NOT NULL,
    raw             TEXT NOT NULL,
    content_hash    BLOB NOT NULL,
    creation_epoch  INTEGER NOT NULL,
    first_seen_at   INTEGER NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES sync_runs(id),
    chain_link      BLOB NOT NULL,
    UNIQUE (task_id, version)
);

CREATE VIRTUAL TABLE tasks_fts USING fts5(
    type, message, error_message,
    content="tasks", content_rowid="id"
);

-- A finished task's log, archived once. rotated = 1 when the server had already rotated it away
-- (empty body); then there are no lines. Lines are covered by the log's chain link.
CREATE TABLE task_logs (
    id              INTEGER PRIMARY KEY,               -- chain sequence number
    task_id         INTEGER NOT NULL UNIQUE REFERENCES tasks(id),
    rotated         INTEGER NOT NULL,
    line_count      INTEGER NOT NULL,
    content_hash    BLOB NOT NULL,                     -- SHA-256 over the lines' raw bytes
    first_seen_at   INTEGER NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES sync_runs(id),
    chain_link      BLOB NOT NULL
);

CREATE TABLE task_log_lines (
    log_id          INTEGER NOT NULL REFERENCES task_logs(id),
    line_no         INTEGER NOT NULL,                  -- 0-based, in the order the server sent them
    timestamp_us    INTEGER NOT NULL,                  -- realtimeTimestamp
    message         TEXT NOT NULL,
    raw             TEXT NOT NULL,
    PRIMARY KEY (log_id, line_no)
) WITHOUT ROWID;

-- Opaque per-stream cursor state, owned by the sync engine.
CREATE TABLE stream_state (
    instance_id     INTEGER NOT NULL REFERENCES instances(id),
    stream          TEXT NOT NULL,
    state           BLOB NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (instance_id, stream)
) WITHOUT ROWID;

-- Creation-time ranges [from_epoch, to_epoch] known to be archived completely. Overlapping or
-- adjacent ranges are merged on insert, so ranges of one stream never touch.
CREATE TABLE coverage (
    id              INTEGER PRIMARY KEY,
    instance_id     INTEGER NOT NULL REFERENCES instances(id),
    stream          TEXT NOT NULL,
    from_epoch      INTEGER NOT NULL,
    to_epoch        INTEGER NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES sync_runs(id),   -- the run that last extended it
    CHECK (from_epoch <= to_epoch)
);
CREATE INDEX coverage_by_stream ON coverage(instance_id, stream, from_epoch);

-- Ranges the server pruned before they could be archived.
CREATE TABLE gaps (
    id              INTEGER PRIMARY KEY,
    instance_id     INTEGER NOT NULL REFERENCES instances(id),
    stream          TEXT NOT NULL,
    from_epoch      INTEGER NOT NULL,
    to_epoch        INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES sync_runs(id),
    detected_at     INTEGER NOT NULL
);
CREATE INDEX gaps_by_stream ON gaps(instance_id, stream, from_epoch);
