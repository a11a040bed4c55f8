-- cloudron-audit archive, schema version 7.
--
-- The fields of an event that reports and filters read, extracted once from each version's raw JSON
-- when the version is stored, instead of by json_extract in every query: one row per event version
-- (rowid = the version's chain sequence number), narrow, so that a report over millions of logins
-- reads a few dozen bytes per row and never the raw JSON. Each column's derivation is written once
-- (Sources/Archiver/CurrentState.swift, `Event.extractedColumns`); ingest stores it, this migration's
-- fill step computes it for the versions already archived, and `verify` recomputes and compares it.
--
-- No foreign keys: the rows are derived, not evidence, and `verify` checks that every version has its row
-- and every row its version (so that a record deleted or renumbered is reported by the hash chain, as it
-- was before this table, rather than refused).
--
-- Text columns hold a JSON string's text, a number as written, a boolean as '1' or '0' (what json_extract
-- gives); NULL when the member is missing or JSON null. The COALESCE of several paths (user_id, app_id, app_name) is the first present.
CREATE TABLE event_fields (
    version_id      INTEGER PRIMARY KEY,            -- event_versions.id
    event_id        INTEGER NOT NULL,               -- events.id
    version         INTEGER NOT NULL,               -- event_versions.version
    instance_id     INTEGER NOT NULL,               -- events.instance_id
    action          TEXT NOT NULL,
    creation_epoch  INTEGER NOT NULL,               -- this version's creation time
    actor_name      TEXT,                           -- source.username
    actor_id        TEXT,                           -- source.userId
    ip              TEXT,                           -- source.ip
    auth_type       TEXT,                           -- source.authType
    mailbox_id      TEXT,                           -- source.mailboxId (app.login by a mailbox)
    client_app_id   TEXT,                           -- source.appId (the app an OIDC login came through)
    user_id         TEXT,                           -- data.userId, else data.user.id
    user_name       TEXT,                           -- data.user.username
    app_id          TEXT,                           -- data.appId, else data.app.id
    app_name        TEXT,                           -- data.app.fqdn, data.newApp.fqdn, data.app.subdomain, data.app.location
    task_id         TEXT,                           -- data.taskId
    backup_id       TEXT,                           -- data.backupId
    error_message   TEXT,                           -- data.errorMessage
    success         INTEGER                         -- data.success: 1 true, 0 false, NULL otherwise
);
CREATE INDEX event_fields_by_action ON event_fields(action, creation_epoch);
