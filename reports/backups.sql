-- title: Backups
-- description: Full backups (backup.start paired with backup.finish by task id) and app backups (app.backup paired with the next app.backup.finish of the app): start, finish, duration, result and error. A backup without a finish is flagged unfinished.
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
runs AS (
    SELECT 'full' AS kind, s.instance, NULL AS app, s.taskId, s.time AS started,
           (SELECT f.seq FROM b f WHERE f.action = 'backup.finish' AND f.instance = s.instance AND f.taskId = s.taskId
            ORDER BY f.time, f.seq LIMIT 1) AS finishSeq
    FROM b s WHERE s.action = 'backup.start'
    UNION ALL
    SELECT 'app', s.instance, s.app, s.taskId, s.time,
           (SELECT f.seq FROM b f WHERE f.action = 'app.backup.finish' AND f.instance = s.instance AND f.appId IS s.appId
              AND f.time >= s.time ORDER BY f.time, f.seq LIMIT 1)
    FROM b s WHERE s.action = 'app.backup'
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
