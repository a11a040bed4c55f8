-- PostgreSQL dialect of reports/support-access.sql (the header is there). See reports/README.md.
SELECT f.archive_id, f.creation_epoch AS time, i.name AS instance, f.action AS action,
       f.actor_name AS actor,
       f.ip AS ip,
       COALESCE(f.user_name, j.raw #>> '{data,subject}',
                CASE (j.raw #> '{data,enable}')::text WHEN 'true' THEN 'enabled' WHEN 'false' THEN 'disabled' END) AS subject,
       NULLIF((j.raw -> 'data')::text, 'null') AS data,
       e.api_id AS eventId
FROM event_fields f
JOIN events e ON e.archive_id = f.archive_id AND e.id = f.event_id
JOIN event_versions v ON v.archive_id = f.archive_id AND v.id = f.version_id
CROSS JOIN LATERAL (SELECT v.raw::json AS raw) j
JOIN instances i ON i.archive_id = f.archive_id AND i.id = f.instance_id
WHERE f.action IN ('support.ssh', 'support.ticket', 'user.login.ghost')
  AND (:archive IS NULL OR f.archive_id = :archive)
  AND (:instance IS NULL OR i.name = :instance)
  AND (:since IS NULL OR f.creation_epoch >= :since) AND (:until IS NULL OR f.creation_epoch < :until)
  AND (:user IS NULL OR :user IN (f.actor_name, f.actor_id, f.mailbox_id, f.user_id, f.user_name)
       OR EXISTS (SELECT 1 FROM event_versions x WHERE x.archive_id = f.archive_id AND x.id = f.version_id
                  AND :user IN (x.raw::json #>> '{data,user,id}', x.raw::json #>> '{data,user,email}')))
  AND (:ip IS NULL OR f.ip = :ip)
ORDER BY f.creation_epoch * :direction, f.version_id * :direction, f.archive_id
LIMIT NULLIF(:limit, -1)
