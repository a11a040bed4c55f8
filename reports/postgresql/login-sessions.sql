-- PostgreSQL dialect of reports/login-sessions.sql (the header is there). See reports/README.md.
WITH logins AS (
    SELECT f.archive_id, f.creation_epoch AS time, f.version_id AS seq, i.name AS instance,
           COALESCE(f.user_name, f.actor_name) AS "user", f.ip AS ip
    FROM event_fields f
    JOIN instances i ON i.archive_id = f.archive_id AND i.id = f.instance_id
    WHERE f.action IN ('user.login', 'user.login.ghost')
      AND (:archive IS NULL OR f.archive_id = :archive)
      AND (:instance IS NULL OR i.name = :instance)
      AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
      AND (:ip IS NULL OR f.ip = :ip)
      AND (:user IS NULL OR :user IN (f.actor_name, f.actor_id, f.mailbox_id, f.user_id, f.user_name)
           OR EXISTS (SELECT 1 FROM event_versions x WHERE x.archive_id = f.archive_id AND x.id = f.version_id
                      AND :user IN (x.raw::json #>> '{data,user,id}', x.raw::json #>> '{data,user,email}')))
),
marked AS (
    SELECT *, CASE WHEN time - LAG(time) OVER (PARTITION BY archive_id, instance, "user", ip ORDER BY time, seq) < :gap
                   THEN 0 ELSE 1 END AS starts
    FROM logins
),
numbered AS (
    SELECT *, SUM(starts) OVER (PARTITION BY archive_id, instance, "user", ip ORDER BY time, seq ROWS UNBOUNDED PRECEDING) AS session
    FROM marked
)
SELECT archive_id, instance, "user", ip, MIN(time) AS start, MAX(time) AS "end", COUNT(*) AS logins, MAX(time) - MIN(time) AS seconds
FROM numbered
GROUP BY archive_id, instance, "user", ip, session
ORDER BY MIN(time) * :direction, instance COLLATE "C", "user" COLLATE "C" NULLS FIRST, ip COLLATE "C" NULLS FIRST, archive_id
LIMIT NULLIF(:limit, -1)
