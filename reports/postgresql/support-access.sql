-- PostgreSQL dialect of reports/support-access.sql (the header is there). See reports/README.md.
SELECT f.archive_id, f.creation_epoch AS time, f.instance, f.action AS action,
       f.actor_name AS actor,
       f.ip AS ip,
       COALESCE(f.user_name, f.raw #>> '{data,subject}',
                CASE (f.raw #> '{data,enable}')::text WHEN 'true' THEN 'enabled' WHEN 'false' THEN 'disabled' END) AS subject,
       NULLIF((f.raw -> 'data')::text, 'null') AS data,
       f.api_id AS eventId
FROM event_details f
WHERE f.action IN ('support.ssh', 'support.ticket', 'user.login.ghost')
  AND (:archive IS NULL OR f.archive_id = :archive)
  AND (:instance IS NULL OR f.instance = :instance)
  AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
  AND (:user IS NULL OR :user = ANY(f.users))
  AND (:ip IS NULL OR f.ip = :ip)
ORDER BY f.creation_epoch * :direction, f.version_id * :direction, f.archive_id
LIMIT NULLIF(:limit, -1)
