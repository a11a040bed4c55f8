-- title: Out of memory
-- description: Apps and addons killed for running out of memory (app.oom). --summary counts them per UTC day and victim.
-- columns: time:time, instance, kind, victim, appId, eventId
-- summary-columns: day, instance, kind, victim, count:integer
-- filters: since, until, instance, app
WITH oom AS (
    SELECT e.creation_epoch AS time, e.id AS seq, i.name AS instance,
           CASE WHEN json_type(v.raw, '$.data.addon') = 'object' THEN 'addon' ELSE 'app' END AS kind,
           COALESCE(json_extract(v.raw, '$.data.addon.name'), json_extract(v.raw, '$.data.app.fqdn'),
                    json_extract(v.raw, '$.data.app.subdomain'), json_extract(v.raw, '$.data.app.location'),
                    json_extract(v.raw, '$.data.containerId')) AS victim,
           json_extract(v.raw, '$.data.app.id') AS appId,
           e.api_id AS eventId
    FROM events e
    JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
    JOIN instances i ON i.id = e.instance_id
    WHERE e.action = 'app.oom'
      AND (:instance IS NULL OR i.name = :instance)
      AND (:since IS NULL OR e.creation_epoch >= :since) AND (:until IS NULL OR e.creation_epoch < :until)
)
SELECT time, instance, kind, victim, appId, eventId FROM oom
WHERE (:app IS NULL OR :app IN (appId, victim))
ORDER BY time * :direction, seq * :direction
LIMIT :limit
-- summary
WITH oom AS (
    SELECT e.creation_epoch AS time, i.name AS instance,
           CASE WHEN json_type(v.raw, '$.data.addon') = 'object' THEN 'addon' ELSE 'app' END AS kind,
           COALESCE(json_extract(v.raw, '$.data.addon.name'), json_extract(v.raw, '$.data.app.fqdn'),
                    json_extract(v.raw, '$.data.app.subdomain'), json_extract(v.raw, '$.data.app.location'),
                    json_extract(v.raw, '$.data.containerId')) AS victim,
           json_extract(v.raw, '$.data.app.id') AS appId
    FROM events e
    JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
    JOIN instances i ON i.id = e.instance_id
    WHERE e.action = 'app.oom'
      AND (:instance IS NULL OR i.name = :instance)
      AND (:since IS NULL OR e.creation_epoch >= :since) AND (:until IS NULL OR e.creation_epoch < :until)
)
SELECT date(time, 'unixepoch') AS day, instance, kind, victim, COUNT(*) AS count FROM oom
WHERE (:app IS NULL OR :app IN (appId, victim))
GROUP BY day, instance, kind, victim
ORDER BY MIN(time) / 86400 * :direction, instance, kind, victim
LIMIT :limit
