-- PostgreSQL dialect of reports/logins.sql (the header is there). See reports/README.md.
SELECT f.archive_id, f.creation_epoch AS time, i.name AS instance, f.action AS action,
       COALESCE(f.user_name, f.actor_name, f.mailbox_id) AS "user",
       COALESCE(f.user_id, f.actor_id) AS userId,
       CASE WHEN f.action = 'user.login.ghost' THEN f.actor_name END AS impersonatedBy,
       f.ip AS ip, f.auth_type AS authType, COALESCE(f.app_id, f.client_app_id) AS app,
       CASE WHEN f.action = 'user.login.ghost' THEN 'impersonation' ELSE '' END AS flag,
       e.api_id AS eventId
FROM event_fields f
JOIN events e ON e.archive_id = f.archive_id AND e.id = f.event_id
JOIN instances i ON i.archive_id = f.archive_id AND i.id = f.instance_id
WHERE f.action IN ('user.login', 'user.login.ghost', 'user.logout', 'app.login')
  AND (:archive IS NULL OR f.archive_id = :archive)
  AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
  AND (:instance IS NULL OR i.name = :instance)
  AND (:ip IS NULL OR f.ip = :ip)
  AND (:app IS NULL OR :app IN (f.app_id, f.client_app_id))
  AND (:user IS NULL OR :user IN (f.actor_name, f.actor_id, f.mailbox_id, f.user_id, f.user_name)
       OR EXISTS (SELECT 1 FROM event_versions x WHERE x.archive_id = f.archive_id AND x.id = f.version_id
                  AND :user IN (x.raw::json #>> '{data,user,id}', x.raw::json #>> '{data,user,email}')))
ORDER BY f.creation_epoch * :direction, f.version_id * :direction, f.archive_id
LIMIT NULLIF(:limit, -1)
-- summary
-- The window's logins are read through the action and time index; whether an IP is new is looked up per user
-- and IP of the window through the index of the logins by IP (schema 0012), and only for instances whose event
-- log the archive holds from before the window: as in SQLite, the summary reads the window, never the whole history.
WITH logins AS NOT MATERIALIZED (
    SELECT f.archive_id, f.creation_epoch AS time, f.instance_id AS "instanceId", i.name AS instance,
           COALESCE(f.user_name, f.actor_name, f.mailbox_id) AS "user", f.ip AS ip
    FROM event_fields f
    JOIN instances i ON i.archive_id = f.archive_id AND i.id = f.instance_id
    WHERE f.action IN ('user.login', 'user.login.ghost', 'app.login')
      AND (:archive IS NULL OR f.archive_id = :archive)
      AND (:instance IS NULL OR i.name = :instance)
      AND (:ip IS NULL OR f.ip = :ip)
      AND (:app IS NULL OR :app IN (f.app_id, f.client_app_id))
      AND (:user IS NULL OR :user IN (f.actor_name, f.actor_id, f.mailbox_id, f.user_id, f.user_name)
           OR EXISTS (SELECT 1 FROM event_versions x WHERE x.archive_id = f.archive_id AND x.id = f.version_id
                      AND :user IN (x.raw::json #>> '{data,user,id}', x.raw::json #>> '{data,user,email}')))
),
windowed AS MATERIALIZED (
    SELECT * FROM logins
    WHERE time >= COALESCE(:since, -9223372036854775808) AND time < COALESCE(:until, 9223372036854775807)
),
-- An IP is new only where the archive holds the instance's event log without a break from before the window
-- up to its start (one merged coverage range across :since); elsewhere the answer is "unknown".
covered AS (
    SELECT i.archive_id, i.id AS "instanceId", i.name AS instance FROM instances i
    WHERE :since IS NOT NULL AND EXISTS (SELECT 1 FROM coverage c WHERE c.archive_id = i.archive_id AND c.instance_id = i.id
                                         AND c.stream = 'eventlog' AND c.from_epoch < :since AND c.to_epoch >= :since - 1)
),
-- The window's users and IPs on covered instances; new: those without a login from that IP before the window.
pairs AS MATERIALIZED (
    SELECT DISTINCT archive_id, "instanceId", instance, "user", ip FROM windowed
    WHERE ip IS NOT NULL AND (archive_id, "instanceId") IN (SELECT archive_id, "instanceId" FROM covered)
),
fresh AS (
    SELECT archive_id, instance, "user", ip FROM pairs p
    WHERE NOT EXISTS (SELECT 1 FROM logins l WHERE l.archive_id = p.archive_id AND l.ip = p.ip AND l."instanceId" = p."instanceId"
                                              AND l.time < :since AND l."user" IS NOT DISTINCT FROM p."user")
),
-- At most --ips per user (0 for all), the rest counted; the IPs in SQLite's (binary) order.
new_ips AS (
    SELECT archive_id, instance, "user",
           string_agg(ip, ' ' ORDER BY ip COLLATE "C") FILTER (WHERE :ips <= 0 OR ipOrder <= :ips)
               || CASE WHEN :ips > 0 AND COUNT(*) > :ips THEN ' (+' || (COUNT(*) - :ips) || ' more)' ELSE '' END AS newIPs
    FROM (SELECT archive_id, instance, "user", ip,
                 ROW_NUMBER() OVER (PARTITION BY archive_id, instance, "user" ORDER BY ip COLLATE "C") AS ipOrder
          FROM fresh) AS ranked
    GROUP BY archive_id, instance, "user"
),
per_user AS (
    SELECT archive_id, instance, "user", MIN(time) AS firstSeen, MAX(time) AS lastSeen, COUNT(*) AS logins,
           COUNT(DISTINCT ip) AS distinctIPs
    FROM windowed
    GROUP BY archive_id, instance, "user"
)
SELECT u.archive_id, u.instance, u."user", u.firstSeen, u.lastSeen, u.logins, u.distinctIPs,
       CASE WHEN (u.archive_id, u.instance) IN (SELECT archive_id, instance FROM covered) THEN n.newIPs ELSE 'unknown' END AS newIPs
FROM per_user u
LEFT JOIN new_ips n ON n.archive_id = u.archive_id AND n.instance = u.instance AND n."user" IS NOT DISTINCT FROM u."user"
ORDER BY u.lastSeen * :direction, u.instance COLLATE "C", u."user" COLLATE "C" NULLS FIRST, u.archive_id
LIMIT NULLIF(:limit, -1)
