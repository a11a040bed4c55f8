-- title: Login sessions
-- description: Logins (user.login and user.login.ghost, every archived version) grouped per instance, user and IP into sessions: a login less than --gap after the previous one of the same user and IP continues the session.
-- columns: instance, user, ip, start:time, end:time, logins:integer, seconds:integer
-- filters: since, until, instance, user, ip
-- parameter: gap duration 30m Logins less than this apart belong to one session.
WITH logins AS (
    SELECT f.creation_epoch AS time, f.version_id AS seq, i.name AS instance,
           COALESCE(f.user_name, f.actor_name) AS user, f.ip AS ip
    FROM event_fields f
    JOIN instances i ON i.id = f.instance_id
    WHERE f.action IN ('user.login', 'user.login.ghost')
      AND (:instance IS NULL OR i.name = :instance)
      AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
      AND (:ip IS NULL OR f.ip = :ip)
      AND (:user IS NULL OR :user IN (f.actor_name, f.actor_id, f.mailbox_id, f.user_id, f.user_name)
           OR EXISTS (SELECT 1 FROM event_versions x WHERE x.id = f.version_id
                      AND :user IN (json_extract(x.raw, '$.data.user.id'), json_extract(x.raw, '$.data.user.email'))))
),
marked AS (
    SELECT *, CASE WHEN time - LAG(time) OVER (PARTITION BY instance, user, ip ORDER BY time, seq) < :gap
                   THEN 0 ELSE 1 END AS starts
    FROM logins
),
numbered AS (
    SELECT *, SUM(starts) OVER (PARTITION BY instance, user, ip ORDER BY time, seq ROWS UNBOUNDED PRECEDING) AS session
    FROM marked
)
SELECT instance, user, ip, MIN(time) AS start, MAX(time) AS "end", COUNT(*) AS logins, MAX(time) - MIN(time) AS seconds
FROM numbered
GROUP BY instance, user, ip, session
ORDER BY MIN(time) * :direction, instance, user, ip
LIMIT :limit
