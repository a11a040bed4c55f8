-- title: Logins
-- description: Every login and logout (user.login, user.logout, app.login) and every impersonation (user.login.ghost, flagged), from all archived versions: box rewrites a user's repeated same-day login in place, and each rewrite is a login of its own. Who, when, from which IP, how, into which app.
-- columns: time:time, instance, action, user, userId, impersonatedBy, ip, authType, app, flag, eventId
-- summary-columns: instance, user, firstSeen:time, lastSeen:time, logins:integer, distinctIPs:integer, newIPs
-- filters: since, until, instance, user, app, ip
WITH logins AS (
    SELECT v.creation_epoch AS time, v.id AS seq, i.name AS instance, e.action AS action,
           COALESCE(json_extract(v.raw, '$.data.user.username'), json_extract(v.raw, '$.source.username'),
                    json_extract(v.raw, '$.source.mailboxId')) AS user,
           COALESCE(json_extract(v.raw, '$.data.userId'), json_extract(v.raw, '$.data.user.id'),
                    json_extract(v.raw, '$.source.userId')) AS userId,
           CASE WHEN e.action = 'user.login.ghost' THEN json_extract(v.raw, '$.source.username') END AS impersonatedBy,
           json_extract(v.raw, '$.source.ip') AS ip,
           json_extract(v.raw, '$.source.authType') AS authType,
           COALESCE(json_extract(v.raw, '$.data.appId'), json_extract(v.raw, '$.source.appId')) AS app,
           CASE WHEN e.action = 'user.login.ghost' THEN 'impersonation' ELSE '' END AS flag,
           e.api_id AS eventId
    FROM event_versions v
    JOIN events e ON e.id = v.event_id
    JOIN instances i ON i.id = e.instance_id
    WHERE e.action IN ('user.login', 'user.login.ghost', 'user.logout', 'app.login')
      AND (:instance IS NULL OR i.name = :instance)
      AND (:ip IS NULL OR json_extract(v.raw, '$.source.ip') = :ip)
      AND (:app IS NULL OR :app IN (json_extract(v.raw, '$.data.appId'), json_extract(v.raw, '$.source.appId')))
      AND (:user IS NULL OR :user IN (json_extract(v.raw, '$.source.username'), json_extract(v.raw, '$.source.userId'),
                                      json_extract(v.raw, '$.source.mailboxId'), json_extract(v.raw, '$.data.userId'),
                                      json_extract(v.raw, '$.data.user.id'), json_extract(v.raw, '$.data.user.username'),
                                      json_extract(v.raw, '$.data.user.email')))
)
SELECT time, instance, action, user, userId, impersonatedBy, ip, authType, app, flag, eventId
FROM logins
WHERE (:since IS NULL OR time >= :since) AND (:until IS NULL OR time < :until)
ORDER BY time * :direction, seq * :direction
LIMIT :limit
-- summary
WITH logins AS (
    SELECT v.creation_epoch AS time, i.name AS instance,
           COALESCE(json_extract(v.raw, '$.data.user.username'), json_extract(v.raw, '$.source.username'),
                    json_extract(v.raw, '$.source.mailboxId')) AS user,
           json_extract(v.raw, '$.source.ip') AS ip
    FROM event_versions v
    JOIN events e ON e.id = v.event_id
    JOIN instances i ON i.id = e.instance_id
    WHERE e.action IN ('user.login', 'user.login.ghost', 'app.login')
      AND (:instance IS NULL OR i.name = :instance)
      AND (:ip IS NULL OR json_extract(v.raw, '$.source.ip') = :ip)
      AND (:app IS NULL OR :app IN (json_extract(v.raw, '$.data.appId'), json_extract(v.raw, '$.source.appId')))
      AND (:user IS NULL OR :user IN (json_extract(v.raw, '$.source.username'), json_extract(v.raw, '$.source.userId'),
                                      json_extract(v.raw, '$.source.mailboxId'), json_extract(v.raw, '$.data.userId'),
                                      json_extract(v.raw, '$.data.user.id'), json_extract(v.raw, '$.data.user.username'),
                                      json_extract(v.raw, '$.data.user.email')))
),
in_window AS (
    SELECT * FROM logins WHERE (:since IS NULL OR time >= :since) AND (:until IS NULL OR time < :until)
)
SELECT w.instance, w.user, MIN(w.time) AS firstSeen, MAX(w.time) AS lastSeen, COUNT(*) AS logins,
       COUNT(DISTINCT w.ip) AS distinctIPs,
       (SELECT group_concat(ip, ' ') FROM (
            SELECT DISTINCT n.ip FROM in_window n
            WHERE n.instance = w.instance AND n.user IS w.user AND n.ip IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM logins p WHERE p.instance = n.instance AND p.user IS n.user
                                                       AND p.ip = n.ip AND p.time < :since)
            ORDER BY n.ip)) AS newIPs
FROM in_window w
GROUP BY w.instance, w.user
ORDER BY MAX(w.time) * :direction, w.instance, w.user
LIMIT :limit
