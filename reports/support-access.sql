-- title: Support access
-- description: Remote support switched on or off (support.ssh), support tickets (support.ticket) and impersonation of users by admins (user.login.ghost): who, when, from where, and the data as received.
-- columns: time:time, instance, action, actor, ip, subject, data:json, eventId
-- filters: since, until, instance, user, ip
SELECT f.creation_epoch AS time, i.name AS instance, f.action AS action,
       f.actor_name AS actor,
       f.ip AS ip,
       COALESCE(f.user_name, json_extract(v.raw, '$.data.subject'),
                CASE json_type(v.raw, '$.data.enable') WHEN 'true' THEN 'enabled' WHEN 'false' THEN 'disabled' END) AS subject,
       json_extract(v.raw, '$.data') AS data,
       e.api_id AS eventId
FROM event_fields f
JOIN events e ON e.id = f.event_id
JOIN event_versions v ON v.id = f.version_id
JOIN instances i ON i.id = f.instance_id
WHERE f.action IN ('support.ssh', 'support.ticket', 'user.login.ghost')
  AND (:instance IS NULL OR i.name = :instance)
  AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
  AND (:user IS NULL OR :user IN (f.actor_name, f.actor_id, f.mailbox_id, f.user_id, f.user_name)
       OR EXISTS (SELECT 1 FROM event_versions x WHERE x.id = f.version_id
                  AND :user IN (json_extract(x.raw, '$.data.user.id'), json_extract(x.raw, '$.data.user.email'))))
  AND (:ip IS NULL OR f.ip = :ip)
ORDER BY f.creation_epoch * :direction, f.version_id * :direction
LIMIT :limit
