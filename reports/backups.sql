-- title: Backups
-- description: Full backups (backup.start paired with the next backup.finish of its task id) and app backups (app.backup paired with the next app.backup.finish of the app): start, finish, duration, result and error. A backup without a finish before the next start of its task or app is flagged unfinished.
-- columns: kind, instance, app, taskId, started:time, finished:time, seconds:integer, result, error, backupId
-- filters: since, until, instance, app, result(success|failed|unfinished)
-- Each start of the window looks up, through the indexes of its task's or app's backup events (schema 0012,
-- covering since 0015), the next start of the same task or app and the first finish at or after it: box reuses
-- task ids, and a run that never finished must not take the next run's finish, so a finish counts only before
-- the next start (durations are therefore never negative). The report reads the window's starts and a few index
-- entries each, never a table row: a version is current when no later version of its event exists (0015's
-- event_fields_later_versions), which spares a read of the events row.
WITH starts AS (
    SELECT f.creation_epoch AS time, f.event_id AS seq, i.name AS instance, f.instance_id AS instanceId,
           f.action AS action, f.task_id AS taskId, f.app_id AS appId, f.app_name AS app,
           CASE WHEN f.action = 'backup.start' THEN 'full' ELSE 'app' END AS kind
    FROM event_fields f
    JOIN instances i ON i.id = f.instance_id
    WHERE f.action IN ('backup.start', 'app.backup')
      AND NOT EXISTS (SELECT 1 FROM event_fields l WHERE l.version > 1 AND l.event_id = f.event_id AND l.version > f.version)
      AND (:instance IS NULL OR i.name = :instance)
      AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
),
-- The next start of the same task (full) or app, in (time, event id) order.
bounded AS MATERIALIZED (
    SELECT s.*,
           CASE s.kind WHEN 'full' THEN
               (SELECT n.creation_epoch FROM event_fields n
                WHERE n.action IN ('backup.start', 'backup.finish') AND n.instance_id = s.instanceId AND n.task_id IS s.taskId
                  AND n.creation_epoch >= s.time AND (n.creation_epoch > s.time OR n.event_id > s.seq) AND n.action = 'backup.start'
                  AND NOT EXISTS (SELECT 1 FROM event_fields l WHERE l.version > 1 AND l.event_id = n.event_id AND l.version > n.version)
                ORDER BY n.creation_epoch, n.event_id LIMIT 1)
           ELSE
               (SELECT n.creation_epoch FROM event_fields n
                WHERE n.action IN ('app.backup', 'app.backup.finish') AND n.instance_id = s.instanceId AND n.app_id IS s.appId
                  AND n.creation_epoch >= s.time AND (n.creation_epoch > s.time OR n.event_id > s.seq) AND n.action = 'app.backup'
                  AND NOT EXISTS (SELECT 1 FROM event_fields l WHERE l.version > 1 AND l.event_id = n.event_id AND l.version > n.version)
                ORDER BY n.creation_epoch, n.event_id LIMIT 1)
           END AS nextStart
    FROM starts s
),
-- The finish: the first (lowest time, then event id) of the task's or app's finishes at or after the start and
-- before the next start, as one value (a JSON array: version id, time, error, backup id, app id), since a scalar
-- subquery returns one and the index holds them all (a join on the finish's row id would read the table).
runs AS MATERIALIZED (
    SELECT b.kind, b.instance, CASE b.kind WHEN 'full' THEN NULL ELSE b.app END AS app, b.taskId, b.time AS started,
           CASE b.kind WHEN 'full' THEN
               (SELECT json_array(ff.version_id, ff.creation_epoch, ff.error_message, ff.backup_id, ff.app_id) FROM event_fields ff
                WHERE ff.action IN ('backup.start', 'backup.finish') AND ff.instance_id = b.instanceId AND ff.task_id IS b.taskId
                  AND ff.creation_epoch >= b.time AND ff.creation_epoch < COALESCE(b.nextStart, 9223372036854775807)
                  AND ff.action = 'backup.finish'
                  AND NOT EXISTS (SELECT 1 FROM event_fields l WHERE l.version > 1 AND l.event_id = ff.event_id AND l.version > ff.version)
                ORDER BY ff.creation_epoch, ff.event_id LIMIT 1)
           ELSE
               (SELECT json_array(ff.version_id, ff.creation_epoch, ff.error_message, ff.backup_id, ff.app_id) FROM event_fields ff
                WHERE ff.action IN ('app.backup', 'app.backup.finish') AND ff.instance_id = b.instanceId AND ff.app_id IS b.appId
                  AND ff.creation_epoch >= b.time AND ff.creation_epoch < COALESCE(b.nextStart, 9223372036854775807)
                  AND ff.action = 'app.backup.finish'
                  AND NOT EXISTS (SELECT 1 FROM event_fields l WHERE l.version > 1 AND l.event_id = ff.event_id AND l.version > ff.version)
                ORDER BY ff.creation_epoch, ff.event_id LIMIT 1)
           END AS finish
    FROM bounded b
)
SELECT * FROM (
    SELECT r.kind, r.instance, r.app, r.taskId, r.started, r.finish ->> 1 AS finished, (r.finish ->> 1) - r.started AS seconds,
           CASE WHEN r.finish IS NULL THEN 'unfinished'
                WHEN COALESCE(r.finish ->> 2, '') = '' THEN 'success' ELSE 'failed' END AS result,
           NULLIF(r.finish ->> 2, '') AS error, r.finish ->> 3 AS backupId
    FROM runs r
    WHERE (:app IS NULL OR :app IN (r.app, r.finish ->> 4))
)
WHERE (:result IS NULL OR result = :result)
ORDER BY started * :direction, kind, taskId
LIMIT :limit
