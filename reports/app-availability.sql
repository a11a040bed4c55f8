-- title: App availability
-- description: Outages from the health monitor: each app.down paired with the next app.up of the same app, with the duration; an outage without an app.up yet is flagged open. Repeated app.down events before an app.up are one outage. Outages that started in the window.
-- columns: instance, app, appId, down:time, up:time, seconds:integer, flag
-- filters: since, until, instance, app
-- Each app.down of the window looks up, through the index of the apps' health events (schema 0012), the
-- app's previous health event (does it start an outage?) and its first app.up at or after it: the report
-- reads the window's events and two index lookups each, never the apps' whole history.
WITH downs AS (
    SELECT f.creation_epoch AS time, f.event_id AS seq, f.instance_id AS instanceId, i.name AS instance,
           f.app_id AS appId, f.app_name AS app
    FROM event_fields f
    JOIN events e ON e.id = f.event_id AND e.version = f.version
    JOIN instances i ON i.id = f.instance_id
    WHERE f.action = 'app.down'
      AND (:instance IS NULL OR i.name = :instance)
      AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
),
outages AS MATERIALIZED (
    SELECT d.*,
           (SELECT p.action FROM event_fields p JOIN events pe ON pe.id = p.event_id AND pe.version = p.version
            WHERE p.action IN ('app.down', 'app.up') AND p.instance_id = d.instanceId AND p.app_id IS d.appId
              AND p.creation_epoch <= d.time AND (p.creation_epoch < d.time OR p.event_id < d.seq)
            ORDER BY p.creation_epoch DESC, p.event_id DESC LIMIT 1) AS previous,
           (SELECT u.creation_epoch FROM event_fields u JOIN events ue ON ue.id = u.event_id AND ue.version = u.version
            WHERE u.action IN ('app.down', 'app.up') AND u.instance_id = d.instanceId AND u.app_id IS d.appId
              AND u.creation_epoch >= d.time AND u.action = 'app.up'
            ORDER BY u.creation_epoch LIMIT 1) AS up
    FROM downs d
)
SELECT instance, app, appId, time AS down, up, up - time AS seconds, CASE WHEN up IS NULL THEN 'open' ELSE '' END AS flag
FROM outages
WHERE (previous IS NULL OR previous <> 'app.down')
  AND (:app IS NULL OR :app IN (app, appId))
ORDER BY time * :direction, instance, app
LIMIT :limit
