-- cloudron-audit archive, schema version 6.
--
-- The archive's own id, drawn once when this migration runs (a new archive or an upgraded one) and
-- never changed: several machines, each syncing its own servers, push into one central PostgreSQL
-- store (`push`), where every row is keyed by this id, so equal instance names or row ids on two
-- machines never collide. A copied archive file keeps the id; `push` notices when two copies have
-- diverged (their chains differ) and refuses to mix them.
CREATE TABLE archive_identity (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    archive_id  TEXT NOT NULL,                         -- 32 lowercase hex digits (128 random bits)
    created_at  INTEGER NOT NULL
);
INSERT INTO archive_identity(singleton, archive_id, created_at)
VALUES (1, lower(hex(randomblob(16))), unixepoch());
