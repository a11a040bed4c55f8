-- title: User changes
-- description: Users added, updated and removed: who did it, whom, and which fields changed compared with the previous user.* event of that user; changes of role or admin status are flagged.
-- columns: time:time, instance, action, actor, userId, username, changed, flag, eventId
-- filters: since, until, instance, user, ip
WITH changes AS (
    SELECT e.creation_epoch AS time, v.id AS seq, i.name AS instance, e.action AS action,
           json_extract(v.raw, '$.source.username') AS actor,
           COALESCE(json_extract(v.raw, '$.data.userId'), json_extract(v.raw, '$.data.user.id')) AS userId,
           json_extract(v.raw, '$.data.user.username') AS username,
           json_extract(v.raw, '$.data.user') AS user,
           json_extract(v.raw, '$.data.adminStatusChanged') AS adminStatusChanged,
           json_extract(v.raw, '$.source.ip') AS ip,
           e.api_id AS eventId
    FROM events e
    JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
    JOIN instances i ON i.id = e.instance_id
    WHERE e.action IN ('user.add', 'user.update', 'user.remove')
      AND (:instance IS NULL OR i.name = :instance)
),
compared AS (
    SELECT *, LAG(user) OVER (PARTITION BY instance, userId ORDER BY time, seq) AS previous FROM changes
)
SELECT time, instance, action, actor, userId, username,
       CASE WHEN action = 'user.update' AND previous IS NOT NULL THEN
           (SELECT group_concat(key, ',') FROM (
                SELECT key FROM json_each(compared.user)
                WHERE json_extract(compared.previous, '$."' || key || '"') IS NOT json_extract(compared.user, '$."' || key || '"')
                ORDER BY key))
       ELSE '' END AS changed,
       CASE WHEN adminStatusChanged = 1
              OR (action = 'user.update' AND previous IS NOT NULL
                  AND (json_extract(previous, '$.role') IS NOT json_extract(user, '$.role')
                       OR json_extract(previous, '$.admin') IS NOT json_extract(user, '$.admin')))
            THEN 'role change' ELSE '' END AS flag,
       eventId
FROM compared
WHERE (:since IS NULL OR time >= :since) AND (:until IS NULL OR time < :until)
  AND (:user IS NULL OR :user IN (userId, username, actor, json_extract(user, '$.email')))
  AND (:ip IS NULL OR ip = :ip)
ORDER BY time * :direction, seq * :direction
LIMIT :limit
