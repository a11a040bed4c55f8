-- PostgreSQL dialect of reports/app-availability.sql (the header is there). See reports/README.md.
WITH health AS (
    SELECT f.archive_id, f.creation_epoch AS time, f.event_id AS seq, i.name AS instance, f.action AS action,
           f.app_id AS appId, f.app_name AS app
    FROM event_fields f
    JOIN events e ON e.archive_id = f.archive_id AND e.id = f.event_id AND e.version = f.version
    JOIN instances i ON i.archive_id = f.archive_id AND i.id = f.instance_id
    WHERE f.action IN ('app.down', 'app.up')
      AND (:archive IS NULL OR f.archive_id = :archive)
      AND (:instance IS NULL OR i.name = :instance)
),
sequenced AS (
    SELECT *, LAG(action) OVER (PARTITION BY archive_id, instance, appId ORDER BY time, seq) AS previous,
           MIN(CASE WHEN action = 'app.up' THEN time END)
               OVER (PARTITION BY archive_id, instance, appId ORDER BY time DESC RANGE UNBOUNDED PRECEDING) AS up
    FROM health
),
outages AS (
    SELECT archive_id, instance, app, appId, time AS down, up FROM sequenced
    WHERE action = 'app.down' AND (previous IS NULL OR previous <> 'app.down')
)
SELECT archive_id, instance, app, appId, down, up, up - down AS seconds, CASE WHEN up IS NULL THEN 'open' ELSE '' END AS flag
FROM outages
WHERE down >= COALESCE(:since, -9223372036854775808) AND down < COALESCE(:until, 9223372036854775807)
  AND (:app IS NULL OR :app IN (app, appId))
ORDER BY down * :direction, instance COLLATE "C", app COLLATE "C" NULLS FIRST, archive_id
LIMIT NULLIF(:limit, -1)
