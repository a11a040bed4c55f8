-- PostgreSQL dialect of reports/admin-changes.sql (the header is there). See reports/README.md.
SELECT f.archive_id, f.creation_epoch AS time, f.instance, f.action AS action,
       f.actor_name AS actor,
       COALESCE(f.raw #>> '{data,domain}', f.raw #>> '{data,name}',
                f.raw #>> '{data,newVersion}', f.raw #>> '{data,boxUpdateInfo,version}',
                f.raw #>> '{data,version}', f.raw #>> '{data,id}') AS subject,
       NULLIF((f.raw -> 'data')::text, 'null') AS data,
       f.api_id AS eventId
FROM event_details f
WHERE (f.action LIKE 'domain.%' OR f.action LIKE 'mail.%' OR f.action LIKE 'volume.%' OR f.action LIKE 'service.%'
       OR f.action LIKE 'certificate.%' OR f.action LIKE 'dyndns.%' OR f.action LIKE 'dashboard.%'
       OR f.action LIKE 'cloudron.%')
  AND f.is_current
  AND (:archive IS NULL OR f.archive_id = :archive)
  AND (:instance IS NULL OR f.instance = :instance)
  AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
  AND (:user IS NULL OR :user = ANY(f.users))
  AND (:ip IS NULL OR f.ip = :ip)
ORDER BY f.creation_epoch * :direction, f.event_id * :direction, f.archive_id
LIMIT NULLIF(:limit, -1)
