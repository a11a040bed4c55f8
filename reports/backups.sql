-- title: Backups
-- description: Full backups (backup.start paired with the next backup.finish of its task id) and app backups (app.backup paired with the next app.backup.finish of the app): start, finish, duration, result and error. A backup without a finish before the next start of its task or app is flagged unfinished.
-- columns: kind, instance, app, taskId, started:time, finished:time, seconds:integer, result, error, backupId
-- filters: since, until, instance, app
WITH b AS (
    SELECT e.creation_epoch AS time, e.id AS seq, i.name AS instance, e.action AS action,
           CAST(json_extract(v.raw, '$.data.taskId') AS TEXT) AS taskId,
           COALESCE(json_extract(v.raw, '$.data.appId'), json_extract(v.raw, '$.data.app.id')) AS appId,
           COALESCE(json_extract(v.raw, '$.data.app.fqdn'), json_extract(v.raw, '$.data.app.subdomain'),
                    json_extract(v.raw, '$.data.app.location')) AS app,
           json_extract(v.raw, '$.data.errorMessage') AS errorMessage,
           json_extract(v.raw, '$.data.backupId') AS backupId
    FROM events e
    JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
    JOIN instances i ON i.id = e.instance_id
    WHERE e.action IN ('backup.start', 'backup.finish', 'app.backup', 'app.backup.finish')
      AND (:instance IS NULL OR i.name = :instance)
),
-- A start's finish is the first one of the same task (full) or app (app backups) at or after it, unless
-- another start of that task or app comes first: box reuses task ids, and a run that never finished
-- must not take the next run's finish. Durations are therefore never negative.
starts AS (
    SELECT s.*, CASE s.action WHEN 'backup.start' THEN 'backup.finish' ELSE 'app.backup.finish' END AS finishAction,
           (SELECT MIN(n.time) FROM b n WHERE n.action = s.action AND n.instance = s.instance
              AND (CASE s.action WHEN 'backup.start' THEN n.taskId IS s.taskId ELSE n.appId IS s.appId END)
              AND (n.time > s.time OR (n.time = s.time AND n.seq > s.seq))) AS nextStart
    FROM b s WHERE s.action IN ('backup.start', 'app.backup')
),
runs AS (
    SELECT CASE s.action WHEN 'backup.start' THEN 'full' ELSE 'app' END AS kind, s.instance,
           CASE s.action WHEN 'backup.start' THEN NULL ELSE s.app END AS app, s.taskId, s.time AS started,
           (SELECT f.seq FROM b f WHERE f.action = s.finishAction AND f.instance = s.instance
              AND (CASE s.action WHEN 'backup.start' THEN f.taskId IS s.taskId ELSE f.appId IS s.appId END)
              AND f.time >= s.time AND (s.nextStart IS NULL OR f.time < s.nextStart)
            ORDER BY f.time, f.seq LIMIT 1) AS finishSeq
    FROM starts s
)
SELECT r.kind, r.instance, r.app, r.taskId, r.started, f.time AS finished, f.time - r.started AS seconds,
       CASE WHEN f.seq IS NULL THEN 'unfinished'
            WHEN COALESCE(f.errorMessage, '') = '' THEN 'success' ELSE 'failed' END AS result,
       NULLIF(f.errorMessage, '') AS error, f.backupId AS backupId
FROM runs r LEFT JOIN b f ON f.seq = r.finishSeq
WHERE (:since IS NULL OR r.started >= :since) AND (:until IS NULL OR r.started < :until)
  AND (:app IS NULL OR :app IN (r.app, (SELECT appId FROM b WHERE b.seq = r.finishSeq)))
ORDER BY r.started * :direction, r.kind, r.taskId
LIMIT :limit
