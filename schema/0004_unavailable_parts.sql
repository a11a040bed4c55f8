-- cloudron-audit archive, schema version 4.
--
-- One object or one endpoint a server cannot serve never stops a sync: what was skipped, and why, is
-- recorded here, and the sync tries it again on later runs.

-- Task logs the server could not give (box answers 424 or 500 for one task's log, a log can exceed the
-- response size cap or box's 10 s request timeout). One row per task while its log is missing; the row
-- goes once the log is archived. A task is asked again on later runs until `first_try_at` lies further
-- back than box keeps logs (about 7 days), after which it is left as unavailable.
CREATE TABLE task_log_failures (
    task_id         INTEGER PRIMARY KEY REFERENCES tasks(id),
    reason          TEXT NOT NULL,                     -- the last attempt's error, one line
    attempts        INTEGER NOT NULL,
    first_try_at    INTEGER NOT NULL,
    last_try_at     INTEGER NOT NULL,
    last_run_id     INTEGER NOT NULL REFERENCES sync_runs(id)
);

-- Streams a run could not sync at all: the server has no such endpoint (404; servers before late 2018
-- have no notifications or tasks), or refuses it to this token (401, 403). JSON array of
-- {"stream": …, "reason": …}.
ALTER TABLE sync_runs ADD COLUMN unavailable_streams TEXT NOT NULL DEFAULT '[]';
