-- PostgreSQL dialect of reports/oom.sql (the header is there). See reports/README.md.
WITH oom AS (
    SELECT e.archive_id, e.creation_epoch AS time, e.id AS seq, i.name AS instance,
           CASE WHEN json_typeof(j.raw #> '{data,addon}') = 'object' THEN 'addon' ELSE 'app' END AS kind,
           COALESCE(j.raw #>> '{data,addon,name}', j.raw #>> '{data,app,fqdn}',
                    j.raw #>> '{data,app,subdomain}', j.raw #>> '{data,app,location}',
                    j.raw #>> '{data,containerId}') AS victim,
           j.raw #>> '{data,app,id}' AS appId,
           e.api_id AS eventId
    FROM events e
    JOIN event_versions v ON v.archive_id = e.archive_id AND v.event_id = e.id AND v.version = e.version
    CROSS JOIN LATERAL (SELECT v.raw::json AS raw) j
    JOIN instances i ON i.archive_id = e.archive_id AND i.id = e.instance_id
    WHERE e.action = 'app.oom'
      AND (:archive IS NULL OR e.archive_id = :archive)
      AND (:instance IS NULL OR i.name = :instance)
      AND (:since IS NULL OR e.creation_epoch >= :since) AND (:until IS NULL OR e.creation_epoch < :until)
)
SELECT archive_id, time, instance, kind, victim, appId, eventId FROM oom
WHERE (:app IS NULL OR :app IN (appId, victim))
ORDER BY time * :direction, seq * :direction, archive_id
LIMIT NULLIF(:limit, -1)
-- summary
WITH oom AS (
    SELECT e.archive_id, e.creation_epoch AS time, i.name AS instance,
           CASE WHEN json_typeof(j.raw #> '{data,addon}') = 'object' THEN 'addon' ELSE 'app' END AS kind,
           COALESCE(j.raw #>> '{data,addon,name}', j.raw #>> '{data,app,fqdn}',
                    j.raw #>> '{data,app,subdomain}', j.raw #>> '{data,app,location}',
                    j.raw #>> '{data,containerId}') AS victim,
           j.raw #>> '{data,app,id}' AS appId
    FROM events e
    JOIN event_versions v ON v.archive_id = e.archive_id AND v.event_id = e.id AND v.version = e.version
    CROSS JOIN LATERAL (SELECT v.raw::json AS raw) j
    JOIN instances i ON i.archive_id = e.archive_id AND i.id = e.instance_id
    WHERE e.action = 'app.oom'
      AND (:archive IS NULL OR e.archive_id = :archive)
      AND (:instance IS NULL OR i.name = :instance)
      AND (:since IS NULL OR e.creation_epoch >= :since) AND (:until IS NULL OR e.creation_epoch < :until)
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
