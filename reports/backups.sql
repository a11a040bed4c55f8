-- title: Backups
-- description: Full backups (backup.start paired with the next backup.finish of its task id) and app backups (app.backup paired with the next app.backup.finish of the app): start, finish, duration, result and error. A backup without a finish before the next start of its task or app is flagged unfinished.
-- columns: kind, instance, app, taskId, started:time, finished:time, seconds:integer, result, error, backupId
-- filters: since, until, instance, app
WITH b AS (
    SELECT f.creation_epoch AS time, f.event_id AS seq, i.name AS instance, f.action AS action, f.task_id AS taskId,
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
-- The first finish (lowest seq) of each task or app and second.
finishes AS (
    SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY kind, instance, key, time ORDER BY seq) AS n
                   FROM b WHERE NOT isStart)
    WHERE n = 1
),
runs AS (
    SELECT s.kind, s.instance, CASE s.kind WHEN 'full' THEN NULL ELSE s.app END AS app, s.taskId, s.time AS started,
           f.time AS finished, f.seq AS finishSeq, f.errorMessage, f.backupId, f.appId AS finishAppId
    FROM starts s
    LEFT JOIN finishes f ON f.kind = s.kind AND f.instance = s.instance AND f.key IS s.key AND f.time = s.finishTime
                        AND (s.nextStart IS NULL OR s.finishTime < s.nextStart)
)
SELECT kind, instance, app, taskId, started, finished, finished - started AS seconds,
       CASE WHEN finishSeq IS NULL THEN 'unfinished'
            WHEN COALESCE(errorMessage, '') = '' THEN 'success' ELSE 'failed' END AS result,
       NULLIF(errorMessage, '') AS error, backupId
FROM runs
WHERE (:since IS NULL OR started >= :since) AND (:until IS NULL OR started < :until)
  AND (:app IS NULL OR :app IN (app, finishAppId))
ORDER BY started * :direction, kind, taskId
LIMIT :limit
