-- title: App availability
-- description: Outages from the health monitor: each app.down paired with the next app.up of the same app, with the duration; an outage without an app.up yet is flagged open. Repeated app.down events before an app.up are one outage. Outages that started in the window.
-- columns: instance, app, appId, down:time, up:time, seconds:integer, flag
-- filters: since, until, instance, app
WITH health AS (
    SELECT e.creation_epoch AS time, e.id AS seq, i.name AS instance, e.action AS action,
           json_extract(v.raw, '$.data.app.id') AS appId,
           COALESCE(json_extract(v.raw, '$.data.app.fqdn'), json_extract(v.raw, '$.data.app.subdomain'),
                    json_extract(v.raw, '$.data.app.location')) AS app
    FROM events e
    JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
    JOIN instances i ON i.id = e.instance_id
    WHERE e.action IN ('app.down', 'app.up')
      AND (:instance IS NULL OR i.name = :instance)
),
sequenced AS (
    SELECT *, LAG(action) OVER (PARTITION BY instance, appId ORDER BY time, seq) AS previous FROM health
),
outages AS (
    SELECT d.instance, d.app, d.appId, d.time AS down,
           (SELECT MIN(u.time) FROM health u
            WHERE u.instance = d.instance AND u.appId IS d.appId AND u.action = 'app.up' AND u.time >= d.time) AS up
    FROM sequenced d
    WHERE d.action = 'app.down' AND (d.previous IS NULL OR d.previous <> 'app.down')
)
SELECT instance, app, appId, down, up, up - down AS seconds, CASE WHEN up IS NULL THEN 'open' ELSE '' END AS flag
FROM outages
WHERE (:since IS NULL OR down >= :since) AND (:until IS NULL OR down < :until)
  AND (:app IS NULL OR :app IN (app, appId))
ORDER BY down * :direction, instance, app
LIMIT :limit
