-- PostgreSQL dialect of reports/admin-changes.sql (the header is there). See reports/README.md.
SELECT f.archive_id, f.creation_epoch AS time, i.name AS instance, f.action AS action,
       f.actor_name AS actor,
       COALESCE(j.raw #>> '{data,domain}', j.raw #>> '{data,name}',
                j.raw #>> '{data,newVersion}', j.raw #>> '{data,boxUpdateInfo,version}',
                j.raw #>> '{data,version}', j.raw #>> '{data,id}') AS subject,
       NULLIF((j.raw -> 'data')::text, 'null') AS data,
       e.api_id AS eventId
FROM event_fields f
JOIN events e ON e.archive_id = f.archive_id AND e.id = f.event_id AND e.version = f.version
JOIN event_versions v ON v.archive_id = f.archive_id AND v.id = f.version_id
CROSS JOIN LATERAL (SELECT v.raw::json AS raw) j
JOIN instances i ON i.archive_id = f.archive_id AND i.id = f.instance_id
WHERE (f.action LIKE 'domain.%' OR f.action LIKE 'mail.%' OR f.action LIKE 'volume.%' OR f.action LIKE 'service.%'
       OR f.action LIKE 'certificate.%' OR f.action LIKE 'dyndns.%' OR f.action LIKE 'dashboard.%'
       OR f.action LIKE 'cloudron.%')
  AND (:archive IS NULL OR f.archive_id = :archive)
  AND (:instance IS NULL OR i.name = :instance)
  AND (:since IS NULL OR f.creation_epoch >= :since) AND (:until IS NULL OR f.creation_epoch < :until)
  AND (:user IS NULL OR :user IN (f.actor_name, f.actor_id, f.mailbox_id, f.user_id, f.user_name)
       OR EXISTS (SELECT 1 FROM event_versions x WHERE x.archive_id = f.archive_id AND x.id = f.version_id
                  AND :user IN (x.raw::json #>> '{data,user,id}', x.raw::json #>> '{data,user,email}')))
  AND (:ip IS NULL OR f.ip = :ip)
ORDER BY f.creation_epoch * :direction, f.event_id * :direction, f.archive_id
LIMIT NULLIF(:limit, -1)
