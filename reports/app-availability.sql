-- title: App availability
-- description: Outages from the health monitor: each app.down paired with the next app.up of the same app, with the duration; an outage without an app.up yet is flagged open. Repeated app.down events before an app.up are one outage. Outages that started in the window.
-- columns: instance, app, appId, down:time, up:time, seconds:integer, flag
-- filters: since, until, instance, app
WITH health AS (
    SELECT f.creation_epoch AS time, f.event_id AS seq, i.name AS instance, f.action AS action,
           f.app_id AS appId, f.app_name AS app
    FROM event_fields f
    JOIN events e ON e.id = f.event_id AND e.version = f.version
    JOIN instances i ON i.id = f.instance_id
    WHERE f.action IN ('app.down', 'app.up')
      AND (:instance IS NULL OR i.name = :instance)
),
-- One pass per app: the previous event (does this app.down start an outage?) and the earliest app.up at or
-- after it (a running minimum over the app's events, newest first, peers included).
sequenced AS (
    SELECT *, LAG(action) OVER (PARTITION BY instance, appId ORDER BY time, seq) AS previous,
           MIN(CASE WHEN action = 'app.up' THEN time END)
               OVER (PARTITION BY instance, appId ORDER BY time DESC RANGE UNBOUNDED PRECEDING) AS up
    FROM health
),
outages AS (
    SELECT instance, app, appId, time AS down, up FROM sequenced
    WHERE action = 'app.down' AND (previous IS NULL OR previous <> 'app.down')
)
SELECT instance, app, appId, down, up, up - down AS seconds, CASE WHEN up IS NULL THEN 'open' ELSE '' END AS flag
FROM outages
WHERE (:since IS NULL OR down >= :since) AND (:until IS NULL OR down < :until)
  AND (:app IS NULL OR :app IN (app, appId))
ORDER BY down * :direction, instance, app
LIMIT :limit
