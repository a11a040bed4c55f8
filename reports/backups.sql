-- title: Backups
-- description: Full backups (backup.start paired with the next backup.finish of its task id) and app backups (app.backup paired with the next app.backup.finish of the app): start, finish, duration, result and error. A backup without a finish before the next start of its task or app is flagged unfinished.
-- columns: kind, instance, app, taskId, started:time, finished:time, seconds:integer, result, error, backupId
-- filters: since, until, instance, app, result(success|failed|unfinished)
WITH b AS (
    SELECT f.creation_epoch AS time, f.event_id AS seq, i.name AS instance, f.instance_id AS instanceId,
           f.action AS action, f.task_id AS taskId,
           f.app_id AS appId, f.app_name AS app, f.error_message AS errorMessage, f.backup_id AS backupId,
           CASE WHEN f.action IN ('backup.start', 'backup.finish') THEN 'full' ELSE 'app' END AS kind,
           CASE WHEN f.action IN ('backup.start', 'backup.finish') THEN f.task_id ELSE f.app_id END AS key,
           f.action IN ('backup.start', 'app.backup') AS isStart
    FROM event_fields f
    JOIN events e ON e.id = f.event_id AND e.version = f.version
    JOIN instances i ON i.id = f.instance_id
    WHERE f.action IN ('backup.start', 'backup.finish', 'app.backup', 'app.backup.finish')
      AND (:instance IS NULL OR i.name = :instance)
),
-- A start's finish is the first one of the same task (full) or app (app backups) at or after it, unless
-- another start of that task or app comes first: box reuses task ids, and a run that never finished
-- must not take the next run's finish. Durations are therefore never negative. Each is one window pass
-- over the task's or app's events: the earliest finish time from each event on (a running minimum, newest
-- first, peers included) and the next start.
timed AS (
    SELECT *, MIN(CASE WHEN NOT isStart THEN time END)
                  OVER (PARTITION BY kind, instance, key ORDER BY time DESC RANGE UNBOUNDED PRECEDING) AS finishTime
    FROM b
),
starts AS (
    SELECT *, LEAD(time) OVER (PARTITION BY kind, instance, key ORDER BY time, seq) AS nextStart
    FROM timed WHERE isStart
),
-- The finish itself: the first (lowest seq) of the task's or app's finishes in that second, looked up by
-- the action and time index.
runs AS (
    SELECT s.kind, s.instance, CASE s.kind WHEN 'full' THEN NULL ELSE s.app END AS app, s.taskId, s.time AS started,
           CASE WHEN s.nextStart IS NULL OR s.finishTime < s.nextStart THEN
               (SELECT ff.version_id FROM event_fields ff JOIN events fe ON fe.id = ff.event_id AND fe.version = ff.version
                WHERE ff.action = CASE s.kind WHEN 'full' THEN 'backup.finish' ELSE 'app.backup.finish' END
                  AND ff.creation_epoch = s.finishTime AND ff.instance_id = s.instanceId
                  AND (CASE s.kind WHEN 'full' THEN ff.task_id ELSE ff.app_id END) IS s.key
                ORDER BY ff.event_id LIMIT 1)
           END AS finishVersion
    FROM starts s
)
SELECT * FROM (
    SELECT r.kind, r.instance, r.app, r.taskId, r.started, f.creation_epoch AS finished, f.creation_epoch - r.started AS seconds,
           CASE WHEN f.version_id IS NULL THEN 'unfinished'
                WHEN COALESCE(f.error_message, '') = '' THEN 'success' ELSE 'failed' END AS result,
           NULLIF(f.error_message, '') AS error, f.backup_id AS backupId
    FROM runs r LEFT JOIN event_fields f ON f.version_id = r.finishVersion
    WHERE (:since IS NULL OR r.started >= :since) AND (:until IS NULL OR r.started < :until)
      AND (:app IS NULL OR :app IN (r.app, f.app_id))
)
WHERE (:result IS NULL OR result = :result)
ORDER BY started * :direction, kind, taskId
LIMIT :limit
