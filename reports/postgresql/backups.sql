-- PostgreSQL dialect of reports/backups.sql (the header is there). See reports/README.md.
WITH b AS (
    SELECT f.archive_id, f.creation_epoch AS time, f.event_id AS seq, i.name AS instance, f.instance_id AS instanceId,
           f.action AS action, f.task_id AS taskId,
           f.app_id AS appId, f.app_name AS app, f.error_message AS errorMessage, f.backup_id AS backupId,
           CASE WHEN f.action IN ('backup.start', 'backup.finish') THEN 'full' ELSE 'app' END AS kind,
           CASE WHEN f.action IN ('backup.start', 'backup.finish') THEN f.task_id ELSE f.app_id END AS key,
           f.action IN ('backup.start', 'app.backup') AS isStart
    FROM event_fields f
    JOIN events e ON e.archive_id = f.archive_id AND e.id = f.event_id AND e.version = f.version
    JOIN instances i ON i.archive_id = f.archive_id AND i.id = f.instance_id
    WHERE f.action IN ('backup.start', 'backup.finish', 'app.backup', 'app.backup.finish')
      AND (:archive IS NULL OR f.archive_id = :archive)
      AND (:instance IS NULL OR i.name = :instance)
),
timed AS (
    SELECT *, MIN(CASE WHEN NOT isStart THEN time END)
                  OVER (PARTITION BY archive_id, kind, instance, key ORDER BY time DESC RANGE UNBOUNDED PRECEDING) AS finishTime
    FROM b
),
starts AS (
    SELECT *, LEAD(time) OVER (PARTITION BY archive_id, kind, instance, key ORDER BY time, seq) AS nextStart
    FROM timed WHERE isStart
),
runs AS (
    SELECT s.archive_id, s.kind, s.instance, CASE s.kind WHEN 'full' THEN NULL ELSE s.app END AS app, s.taskId, s.time AS started,
           CASE WHEN s.nextStart IS NULL OR s.finishTime < s.nextStart THEN
               (SELECT ff.version_id FROM event_fields ff
                JOIN events fe ON fe.archive_id = ff.archive_id AND fe.id = ff.event_id AND fe.version = ff.version
                WHERE ff.archive_id = s.archive_id
                  AND ff.action = CASE s.kind WHEN 'full' THEN 'backup.finish' ELSE 'app.backup.finish' END
                  AND ff.creation_epoch = s.finishTime AND ff.instance_id = s.instanceId
                  AND (CASE s.kind WHEN 'full' THEN ff.task_id ELSE ff.app_id END) IS NOT DISTINCT FROM s.key
                ORDER BY ff.event_id LIMIT 1)
           END AS finishVersion
    FROM starts s
)
SELECT * FROM (
    SELECT r.archive_id, r.kind, r.instance, r.app, r.taskId, r.started, f.creation_epoch AS finished,
           f.creation_epoch - r.started AS seconds,
           CASE WHEN f.version_id IS NULL THEN 'unfinished'
                WHEN COALESCE(f.error_message, '') = '' THEN 'success' ELSE 'failed' END AS result,
           NULLIF(f.error_message, '') AS error, f.backup_id AS backupId
    FROM runs r LEFT JOIN event_fields f ON f.archive_id = r.archive_id AND f.version_id = r.finishVersion
    WHERE r.started >= COALESCE(:since, -9223372036854775808) AND r.started < COALESCE(:until, 9223372036854775807)
      AND (:app IS NULL OR :app IN (r.app, f.app_id))
) AS backup_runs
WHERE (:result IS NULL OR result = :result)
ORDER BY started * :direction, kind COLLATE "C", taskId COLLATE "C" NULLS FIRST, archive_id
LIMIT NULLIF(:limit, -1)
