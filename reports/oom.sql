-- title: Out of memory
-- description: Apps and addons killed for running out of memory (app.oom). --summary totals the kills per app or addon over the window, with the first and last kill, ordered by the last (with --by day, per UTC day: by day, then most kills first).
-- columns: time:time, instance, kind, victim, appId, eventId
-- summary-columns: period, instance, kind, victim, count:integer, first:time, last:time
-- filters: since, until, instance, app
-- parameter: by choice(window|day) window --summary: totals over the whole window (period "window"), or per UTC day.
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
      AND e.creation_epoch >= COALESCE(:since, -9223372036854775808) AND e.creation_epoch < COALESCE(:until, 9223372036854775807)
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
      AND e.creation_epoch >= COALESCE(:since, -9223372036854775808) AND e.creation_epoch < COALESCE(:until, 9223372036854775807)
)
SELECT CASE :by WHEN 'day' THEN date(time, 'unixepoch') ELSE 'window' END AS period, instance, kind, victim,
       COUNT(*) AS count, MIN(time) AS first, MAX(time) AS last
FROM oom
WHERE (:app IS NULL OR :app IN (appId, victim))
GROUP BY period, instance, kind, victim
ORDER BY (CASE :by WHEN 'day' THEN MIN(time) / 86400 ELSE MAX(time) END) * :direction, count DESC, instance, kind, victim
LIMIT :limit
