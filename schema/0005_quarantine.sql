-- cloudron-audit archive, schema version 5.
--
-- A list element that is no usable object (not a JSON object, no usable id, an unreadable creationTime)
-- used to fail its whole page, run after run, until the server pruned it. It is kept here instead,
-- exactly as received, and everything else on its page is archived. Each row is a chain record (its id
-- comes from the chain's shared sequence; chain_link covers every column up to run_id), so `verify`
-- covers it; last_seen_at and resolved_at change later and are outside the chain.
CREATE TABLE quarantine (
    id              INTEGER PRIMARY KEY,               -- chain sequence number
    instance_id     INTEGER NOT NULL REFERENCES instances(id),
    stream          TEXT NOT NULL,                     -- eventlog, notifications, tasks
    api_id          TEXT,                              -- the element's id, when it has a usable one
    reason          TEXT NOT NULL,
    raw             TEXT NOT NULL,                     -- the element exactly as received
    content_hash    BLOB NOT NULL,                     -- SHA-256 of raw
    place_epoch     INTEGER,                           -- its creationTime, else that of its neighbour in the order
    first_seen_at   INTEGER NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES sync_runs(id),
    chain_link      BLOB NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    resolved_at     INTEGER,                           -- when an object of this id arrived well-formed
    UNIQUE (instance_id, stream, content_hash)
);
