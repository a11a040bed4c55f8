-- title: Support access
-- description: Remote support switched on or off (support.ssh), support tickets (support.ticket) and impersonation of users by admins (user.login.ghost): who, when, from where, and the data as received.
-- columns: time:time, instance, action, actor, ip, subject, data:json, eventId
-- filters: since, until, instance, user, ip
SELECT v.creation_epoch AS time, i.name AS instance, e.action AS action,
       json_extract(v.raw, '$.source.username') AS actor,
       json_extract(v.raw, '$.source.ip') AS ip,
       COALESCE(json_extract(v.raw, '$.data.user.username'), json_extract(v.raw, '$.data.subject'),
                CASE json_type(v.raw, '$.data.enable') WHEN 'true' THEN 'enabled' WHEN 'false' THEN 'disabled' END) AS subject,
       json_extract(v.raw, '$.data') AS data,
       e.api_id AS eventId
FROM event_versions v
JOIN events e ON e.id = v.event_id
JOIN instances i ON i.id = e.instance_id
WHERE e.action IN ('support.ssh', 'support.ticket', 'user.login.ghost')
  AND (:instance IS NULL OR i.name = :instance)
  AND (:since IS NULL OR v.creation_epoch >= :since) AND (:until IS NULL OR v.creation_epoch < :until)
  AND (:user IS NULL OR :user IN (json_extract(v.raw, '$.source.username'), json_extract(v.raw, '$.source.userId'),
                                json_extract(v.raw, '$.source.mailboxId'), json_extract(v.raw, '$.data.userId'),
                                json_extract(v.raw, '$.data.user.id'), json_extract(v.raw, '$.data.user.username'),
                                json_extract(v.raw, '$.data.user.email')))
  AND (:ip IS NULL OR json_extract(v.raw, '$.source.ip') = :ip)
ORDER BY v.creation_epoch * :direction, v.id * :direction
LIMIT :limit
