-- PostgreSQL dialect of reports/oom.sql (the header is there). See reports/README.md.
WITH oom AS (
    SELECT f.archive_id, f.creation_epoch AS time, f.event_id AS seq, f.instance,
           CASE WHEN json_typeof(f.raw #> '{data,addon}') = 'object' THEN 'addon' ELSE 'app' END AS kind,
           COALESCE(f.raw #>> '{data,addon,name}', f.raw #>> '{data,app,fqdn}',
                    f.raw #>> '{data,app,subdomain}', f.raw #>> '{data,app,location}',
                    f.raw #>> '{data,containerId}') AS victim,
           f.raw #>> '{data,app,id}' AS appId,
           f.api_id AS eventId
    FROM event_details f
    WHERE f.action = 'app.oom' AND f.is_current
      AND (:archive IS NULL OR f.archive_id = :archive)
      AND (:instance IS NULL OR f.instance = :instance)
      AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
)
SELECT archive_id, time, instance, kind, victim, appId, eventId FROM oom
WHERE (:app IS NULL OR :app IN (appId, victim))
ORDER BY time * :direction, seq * :direction, archive_id
LIMIT NULLIF(:limit, -1)
-- summary
WITH oom AS (
    SELECT f.archive_id, f.creation_epoch AS time, f.instance,
           CASE WHEN json_typeof(f.raw #> '{data,addon}') = 'object' THEN 'addon' ELSE 'app' END AS kind,
           COALESCE(f.raw #>> '{data,addon,name}', f.raw #>> '{data,app,fqdn}',
                    f.raw #>> '{data,app,subdomain}', f.raw #>> '{data,app,location}',
                    f.raw #>> '{data,containerId}') AS victim,
           f.raw #>> '{data,app,id}' AS appId
    FROM event_details f
    WHERE f.action = 'app.oom' AND f.is_current
      AND (:archive IS NULL OR f.archive_id = :archive)
      AND (:instance IS NULL OR f.instance = :instance)
      AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
),
periods AS (
    SELECT *, CASE :by WHEN 'day' THEN to_char(to_timestamp(time) AT TIME ZONE 'UTC', 'YYYY-MM-DD') ELSE 'window' END AS period
    FROM oom
    WHERE (:app IS NULL OR :app IN (appId, victim))
)
SELECT archive_id, period, instance, kind, victim, COUNT(*) AS count, MIN(time) AS first, MAX(time) AS last
FROM periods
GROUP BY archive_id, period, instance, kind, victim
ORDER BY (CASE :by WHEN 'day' THEN MIN(time) / 86400 ELSE MAX(time) END) * :direction, COUNT(*) DESC,
         instance COLLATE "C", kind COLLATE "C", victim COLLATE "C" NULLS FIRST, archive_id
LIMIT NULLIF(:limit, -1)
