-- title: User changes
-- description: Users added, updated and removed: who did it, whom, the role before and after (before: from the archive's earlier events of that user, logins included), and which fields changed since the archive last saw that user. Promotions to admin or owner, demotions from them, other role changes, users created as admin or owner and admins or owners removed are flagged.
-- columns: time:time, instance, action, actor, userId, username, roleBefore, roleAfter, changed, flag, eventId
-- filters: since, until, instance, user, ip
WITH states AS (
    -- Every archived version of every event that carries a user object: the user as of that moment.
    SELECT v.creation_epoch AS time, v.id AS seq, i.name AS instance, e.action AS action, v.version = e.version AS isCurrent,
           json_extract(v.raw, '$.source.username') AS actor,
           json_extract(v.raw, '$.source.ip') AS ip,
           COALESCE(json_extract(v.raw, '$.data.userId'), json_extract(v.raw, '$.data.user.id')) AS userId,
           json_extract(v.raw, '$.data.user.username') AS username,
           json_extract(v.raw, '$.data.user') AS user,
           -- Servers before roles (2019) say admin: true|false.
           COALESCE(json_extract(v.raw, '$.data.user.role'),
                    CASE json_type(v.raw, '$.data.user.admin') WHEN 'true' THEN 'admin' WHEN 'false' THEN 'user' END) AS role,
           json_extract(v.raw, '$.data.adminStatusChanged') AS adminStatusChanged,
           e.api_id AS eventId
    FROM event_versions v
    JOIN events e ON e.id = v.event_id
    JOIN instances i ON i.id = e.instance_id
    WHERE e.action GLOB 'user.*' AND json_type(v.raw, '$.data.user') = 'object'
      AND (:instance IS NULL OR i.name = :instance)
),
-- The last role known up to each state (a ghost login's user object has none): window functions,
-- since SQLite's LAG cannot skip NULLs.
known AS (
    SELECT *, FIRST_VALUE(role) OVER (PARTITION BY instance, userId, roleRun ORDER BY time, seq) AS knownRole
    FROM (SELECT *, COUNT(role) OVER (PARTITION BY instance, userId ORDER BY time, seq ROWS UNBOUNDED PRECEDING) AS roleRun
          FROM states)
),
changes AS (
    SELECT *,
           LAG(user) OVER (PARTITION BY instance, userId ORDER BY time, seq) AS previous,
           LAG(knownRole) OVER (PARTITION BY instance, userId ORDER BY time, seq) AS earlierRole
    FROM known
),
roles AS (
    SELECT *,
           CASE WHEN action = 'user.add' THEN NULL
                WHEN action = 'user.remove' THEN COALESCE(role, earlierRole) ELSE earlierRole END AS roleBefore,
           CASE WHEN action = 'user.remove' THEN NULL ELSE role END AS roleAfter
    FROM changes
    WHERE action IN ('user.add', 'user.update', 'user.remove') AND isCurrent
),
ranked AS (
    SELECT *,
           CASE roleBefore WHEN 'owner' THEN 3 WHEN 'admin' THEN 2 WHEN 'usermanager' THEN 1 WHEN 'mailmanager' THEN 1 ELSE 0 END AS rankBefore,
           CASE roleAfter WHEN 'owner' THEN 3 WHEN 'admin' THEN 2 WHEN 'usermanager' THEN 1 WHEN 'mailmanager' THEN 1 ELSE 0 END AS rankAfter
    FROM roles
)
SELECT time, instance, action, actor, userId, username, roleBefore, roleAfter,
       CASE WHEN action = 'user.update' AND previous IS NOT NULL THEN
           COALESCE((SELECT group_concat(key, ',') FROM (
                SELECT key FROM json_each(ranked.user)
                WHERE json_extract(ranked.previous, '$."' || key || '"') IS NOT json_extract(ranked.user, '$."' || key || '"')
                UNION
                SELECT key FROM json_each(ranked.previous) WHERE json_type(ranked.user, '$."' || key || '"') IS NULL
                ORDER BY key)), '')
       ELSE '' END AS changed,
       CASE
           WHEN action = 'user.add' AND roleAfter IN ('admin', 'owner') THEN 'created as ' || roleAfter
           WHEN action = 'user.remove' AND roleBefore IN ('admin', 'owner') THEN 'removed ' || roleBefore
           WHEN action = 'user.update' AND roleBefore IS NOT NULL AND roleAfter IS NOT NULL AND roleBefore <> roleAfter THEN
               CASE WHEN rankAfter > rankBefore AND roleAfter IN ('admin', 'owner') THEN 'promotion'
                    WHEN rankAfter < rankBefore AND roleBefore IN ('admin', 'owner') THEN 'demotion'
                    ELSE 'role change' END
           WHEN adminStatusChanged = 1 THEN 'admin status changed'
           ELSE ''
       END AS flag,
       eventId
FROM ranked
WHERE (:since IS NULL OR time >= :since) AND (:until IS NULL OR time < :until)
  AND (:user IS NULL OR :user IN (userId, username, actor, json_extract(user, '$.email')))
  AND (:ip IS NULL OR ip = :ip)
ORDER BY time * :direction, seq * :direction
LIMIT :limit
