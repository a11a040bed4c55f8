-- title: Administrative changes
-- description: Changes to the server's configuration: domain, mail, volume, service, certificate, dyndns and dashboard actions and cloudron.* (activation, updates, restarts). Who, when, what (domain, name or version) and the full data as received.
-- columns: time:time, instance, action, actor, subject, data:json, eventId
-- filters: since, until, instance, user, ip
SELECT f.creation_epoch AS time, i.name AS instance, f.action AS action,
       f.actor_name AS actor,
       COALESCE(json_extract(v.raw, '$.data.domain'), json_extract(v.raw, '$.data.name'),
                json_extract(v.raw, '$.data.newVersion'), json_extract(v.raw, '$.data.boxUpdateInfo.version'),
                json_extract(v.raw, '$.data.version'), json_extract(v.raw, '$.data.id')) AS subject,
       json_extract(v.raw, '$.data') AS data,
       e.api_id AS eventId
FROM event_fields f
JOIN events e ON e.id = f.event_id AND e.version = f.version
JOIN event_versions v ON v.id = f.version_id
JOIN instances i ON i.id = f.instance_id
WHERE (f.action GLOB 'domain.*' OR f.action GLOB 'mail.*' OR f.action GLOB 'volume.*' OR f.action GLOB 'service.*'
       OR f.action GLOB 'certificate.*' OR f.action GLOB 'dyndns.*' OR f.action GLOB 'dashboard.*'
       OR f.action GLOB 'cloudron.*')
  AND (:instance IS NULL OR i.name = :instance)
  AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
  AND (:user IS NULL OR :user IN (f.actor_name, f.actor_id, f.mailbox_id, f.user_id, f.user_name)
       OR EXISTS (SELECT 1 FROM event_versions x WHERE x.id = f.version_id
                  AND :user IN (json_extract(x.raw, '$.data.user.id'), json_extract(x.raw, '$.data.user.email'))))
  AND (:ip IS NULL OR f.ip = :ip)
ORDER BY f.creation_epoch * :direction, f.event_id * :direction
LIMIT :limit
