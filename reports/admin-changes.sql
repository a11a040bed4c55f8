-- title: Administrative changes
-- description: Changes to the server's configuration: domain, mail, volume, service, certificate, dyndns and dashboard actions and cloudron.* (activation, updates, restarts). Who, when, what (domain, name or version) and the full data as received.
-- columns: time:time, instance, action, actor, subject, data:json, eventId
-- filters: since, until, instance, user, ip
SELECT e.creation_epoch AS time, i.name AS instance, e.action AS action,
       json_extract(v.raw, '$.source.username') AS actor,
       COALESCE(json_extract(v.raw, '$.data.domain'), json_extract(v.raw, '$.data.name'),
                json_extract(v.raw, '$.data.newVersion'), json_extract(v.raw, '$.data.boxUpdateInfo.version'),
                json_extract(v.raw, '$.data.version'), json_extract(v.raw, '$.data.id')) AS subject,
       json_extract(v.raw, '$.data') AS data,
       e.api_id AS eventId
FROM events e
JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
JOIN instances i ON i.id = e.instance_id
WHERE (e.action GLOB 'domain.*' OR e.action GLOB 'mail.*' OR e.action GLOB 'volume.*' OR e.action GLOB 'service.*'
       OR e.action GLOB 'certificate.*' OR e.action GLOB 'dyndns.*' OR e.action GLOB 'dashboard.*'
       OR e.action GLOB 'cloudron.*')
  AND (:instance IS NULL OR i.name = :instance)
  AND (:since IS NULL OR e.creation_epoch >= :since) AND (:until IS NULL OR e.creation_epoch < :until)
  AND (:user IS NULL OR :user IN (json_extract(v.raw, '$.source.username'), json_extract(v.raw, '$.source.userId'),
                                json_extract(v.raw, '$.source.mailboxId'), json_extract(v.raw, '$.data.userId'),
                                json_extract(v.raw, '$.data.user.id'), json_extract(v.raw, '$.data.user.username'),
                                json_extract(v.raw, '$.data.user.email')))
  AND (:ip IS NULL OR json_extract(v.raw, '$.source.ip') = :ip)
ORDER BY e.creation_epoch * :direction, e.id * :direction
LIMIT :limit
