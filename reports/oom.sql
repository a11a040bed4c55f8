-- title: Out of memory
-- description: Apps and addons killed for running out of memory (app.oom). --summary totals the kills per app or addon over the window, with the first and last kill, ordered by the last (with --by day, per UTC day: by day, then most kills first).
-- columns: time:time, instance, kind, victim, appId, eventId
-- summary-columns: period, instance, kind, victim, count:integer, first:time, last:time
-- filters: since, until, instance, app
-- parameter: by choice(window|day) window --summary: totals over the whole window (period "window"), or per UTC day.
-- The kills come from the indexes of schema 0015: the window's app.oom events with their id and current version
-- (events_ooms), then that version's extracted victim (event_fields_ooms, by its whole key: CROSS JOIN keeps
-- this order, and the unary plus keeps SQLite from copying the window onto the second lookup, which would turn
-- each probe into a range scan). The summary needs no event id: it reads event_fields_ooms alone, a version
-- being current when no later one exists (event_fields_later_versions).
WITH oom AS (
    SELECT e.creation_epoch AS time, e.id AS seq, i.name AS instance,
           CASE WHEN f.oom_addon = 1 THEN 'addon' ELSE 'app' END AS kind, f.oom_victim AS victim, f.oom_app_id AS appId,
           e.api_id AS eventId
    FROM events e
    CROSS JOIN event_fields f ON f.action = 'app.oom' AND f.creation_epoch = +e.creation_epoch AND f.instance_id = e.instance_id
                                 AND f.event_id = e.id AND f.version = e.version
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
    SELECT f.creation_epoch AS time, i.name AS instance,
           CASE WHEN f.oom_addon = 1 THEN 'addon' ELSE 'app' END AS kind, f.oom_victim AS victim, f.oom_app_id AS appId
    FROM event_fields f
    JOIN instances i ON i.id = f.instance_id
    WHERE f.action = 'app.oom'
      AND NOT EXISTS (SELECT 1 FROM event_fields l WHERE l.version > 1 AND l.event_id = f.event_id AND l.version > f.version)
      AND (:instance IS NULL OR i.name = :instance)
      AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
)
SELECT CASE :by WHEN 'day' THEN date(time, 'unixepoch') ELSE 'window' END AS period, instance, kind, victim,
       COUNT(*) AS count, MIN(time) AS first, MAX(time) AS last
FROM oom
WHERE (:app IS NULL OR :app IN (appId, victim))
GROUP BY period, instance, kind, victim
ORDER BY (CASE :by WHEN 'day' THEN MIN(time) / 86400 ELSE MAX(time) END) * :direction, count DESC, instance, kind, victim
LIMIT :limit
