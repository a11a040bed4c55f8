-- cloudron-audit archive, schema version 8.
--
-- Source-tamper alarms: what sync found the server doing that box never does by itself. An event that
-- vanished while the server still holds older ones (deleted-upstream), or whose content changed other
-- than by box's in-place rewrite of a repeated login (rewritten-upstream). Alarms are chain records
-- (their id comes from the chain's shared sequence, see 0001), so removing one breaks `verify`.
CREATE TABLE alarms (
    id              INTEGER PRIMARY KEY,               -- chain sequence number
    instance_id     INTEGER NOT NULL REFERENCES instances(id),
    stream          TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('deleted-upstream', 'rewritten-upstream')),
    api_id          TEXT NOT NULL,
    detail          TEXT NOT NULL,
    noticed_at      INTEGER NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES sync_runs(id),
    chain_link      BLOB NOT NULL
);
CREATE INDEX alarms_by_object ON alarms(instance_id, stream, api_id);
