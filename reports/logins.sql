-- title: Logins
-- description: Every login and logout (user.login, user.logout, app.login) and every impersonation (user.login.ghost, flagged), from all archived versions: box rewrites a user's repeated same-day login in place, and each rewrite is a login of its own. Who, when, from which IP, how, into which app. --summary: per user, with the IPs first seen in the window (at most ten unless --ips says otherwise, the rest counted), or "unknown" where the archive does not hold the instance's event log without a break from before the window up to its start (or without --since).
-- columns: time:time, instance, action, user, userId, impersonatedBy, ip, authType, app, flag, eventId
-- summary-columns: instance, user, firstSeen:time, lastSeen:time, logins:integer, distinctIPs:integer, newIPs
-- filters: since, until, instance, user, app, ip
-- direction: keyword
-- parameter: ips integer 10 --summary: new IPs listed per user, the rest counted as "(+N more)" (0 lists them all).
-- Reads the fields extracted at ingest (event_fields), never the raw JSON except for a --user that only a
-- user's id or email inside data.user names. The rows come in the order of the logins index (schemas 0013, 0017),
-- walked forward or backward: its condition is repeated word for word, and its unary plus keeps SQLite from
-- reading the action index instead, action by action, whose rows it would then have to sort.
SELECT f.creation_epoch AS time, i.name AS instance, f.action AS action,
       COALESCE(f.user_name, f.actor_name, f.mailbox_id) AS user,
       COALESCE(f.user_id, f.actor_id) AS userId,
       CASE WHEN f.action = 'user.login.ghost' THEN f.actor_name END AS impersonatedBy,
       f.ip AS ip, f.auth_type AS authType, COALESCE(f.app_id, f.client_app_id) AS app,
       CASE WHEN f.action = 'user.login.ghost' THEN 'impersonation' ELSE '' END AS flag,
       e.api_id AS eventId
FROM event_fields f
JOIN events e ON e.id = f.event_id
JOIN instances i ON i.id = f.instance_id
WHERE (+f.action = 'user.login' OR +f.action = 'user.login.ghost' OR +f.action = 'user.logout' OR +f.action = 'app.login')
  AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
  AND (:instance IS NULL OR i.name = :instance)
  AND (:ip IS NULL OR f.ip = :ip)
  AND (:app IS NULL OR :app IN (f.app_id, f.client_app_id))
  AND (:user IS NULL OR :user IN (f.actor_name, f.actor_id, f.mailbox_id, f.user_id, f.user_name)
           OR EXISTS (SELECT 1 FROM event_versions x WHERE x.id = f.version_id
                      AND :user IN (json_extract(x.raw, '$.data.user.id'), json_extract(x.raw, '$.data.user.email'))))
ORDER BY f.creation_epoch * :direction, f.version_id * :direction
LIMIT :limit
-- summary
-- The window's logins are one range of the logins index (schema 0013), which holds every column read here: the
-- filters on other columns look the row up only when given. Whether an IP is new is looked up per user and IP
-- of the window through the index of the logins by IP (schemas 0012, 0017), and only for instances whose event log
-- the archive holds from before the window: the summary reads the window, never the whole history. Both action
-- conditions are needed, each word for word as its index has it (the unary plus keeps SQLite off the action index).
WITH logins AS NOT MATERIALIZED (
    SELECT f.creation_epoch AS time, f.instance_id AS instanceId, i.name AS instance,
           COALESCE(f.user_name, f.actor_name, f.mailbox_id) AS user, f.ip AS ip
    FROM event_fields f
    JOIN instances i ON i.id = f.instance_id
    WHERE (+f.action = 'user.login' OR +f.action = 'user.login.ghost' OR +f.action = 'app.login')
      AND (+f.action = 'user.login' OR +f.action = 'user.login.ghost' OR +f.action = 'user.logout' OR +f.action = 'app.login')
      AND (:instance IS NULL OR i.name = :instance)
      AND (:ip IS NULL OR f.ip = :ip)
      AND (:app IS NULL AND :user IS NULL OR EXISTS (
           SELECT 1 FROM event_fields g WHERE g.version_id = f.version_id
             AND (:app IS NULL OR :app IN (g.app_id, g.client_app_id))
             AND (:user IS NULL OR :user IN (g.actor_name, g.actor_id, g.mailbox_id, g.user_id, g.user_name)
                  OR EXISTS (SELECT 1 FROM event_versions x WHERE x.id = g.version_id
                             AND :user IN (json_extract(x.raw, '$.data.user.id'), json_extract(x.raw, '$.data.user.email'))))))
),
windowed AS MATERIALIZED (
    SELECT * FROM logins
    WHERE time >= COALESCE(:since, -9223372036854775808) AND time < COALESCE(:until, 9223372036854775807)
),
-- An IP is new only where the archive holds the instance's event log without a break from before the window
-- up to its start (one merged coverage range across :since); elsewhere an earlier login from it may be
-- missing, and the answer is "unknown".
covered AS (
    SELECT i.id AS instanceId, i.name AS instance FROM instances i
    WHERE :since IS NOT NULL AND EXISTS (SELECT 1 FROM coverage c WHERE c.instance_id = i.id AND c.stream = 'eventlog'
                                         AND c.from_epoch < :since AND c.to_epoch >= :since - 1)
),
-- The window's users and IPs on covered instances; new: those without a login from that IP before the window.
pairs AS MATERIALIZED (
    SELECT DISTINCT instanceId, instance, user, ip FROM windowed
    WHERE ip IS NOT NULL AND instanceId IN (SELECT instanceId FROM covered)
),
fresh AS (
    SELECT instance, user, ip FROM pairs p
    WHERE NOT EXISTS (SELECT 1 FROM logins l WHERE l.ip = p.ip AND l.instanceId = p.instanceId AND l.time < :since
                                              AND l.user IS p.user)
),
-- At most --ips per user (ten unless given; 0 for all), the rest counted.
new_ips AS (
    SELECT instance, user,
           group_concat(CASE WHEN :ips <= 0 OR ipOrder <= :ips THEN ip END, ' ')
               || CASE WHEN :ips > 0 AND COUNT(*) > :ips THEN ' (+' || (COUNT(*) - :ips) || ' more)' ELSE '' END AS newIPs
    FROM (SELECT instance, user, ip, ROW_NUMBER() OVER (PARTITION BY instance, user ORDER BY ip) AS ipOrder FROM fresh
          ORDER BY instance, user, ip)
    GROUP BY instance, user
),
per_user AS (
    SELECT instance, user, MIN(time) AS firstSeen, MAX(time) AS lastSeen, COUNT(*) AS logins,
           COUNT(DISTINCT ip) AS distinctIPs
    FROM windowed
    GROUP BY instance, user
)
SELECT u.instance, u.user, u.firstSeen, u.lastSeen, u.logins, u.distinctIPs,
       CASE WHEN u.instance IN (SELECT instance FROM covered) THEN n.newIPs ELSE 'unknown' END AS newIPs
FROM per_user u LEFT JOIN new_ips n ON n.instance = u.instance AND n.user IS u.user
ORDER BY u.lastSeen * :direction, u.instance, u.user
LIMIT :limit
