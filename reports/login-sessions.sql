-- title: Login sessions
-- description: Logins (user.login and user.login.ghost, every archived version) grouped per instance, user and IP into sessions: a login less than --gap after the previous one of the same user and IP continues the session.
-- columns: instance, user, ip, start:time, end:time, logins:integer, seconds:integer
-- filters: since, until, instance, user, ip
-- parameter: gap duration 30m Logins less than this apart belong to one session.
WITH logins AS (
    SELECT v.creation_epoch AS time, v.id AS seq, i.name AS instance,
           COALESCE(json_extract(v.raw, '$.data.user.username'), json_extract(v.raw, '$.source.username')) AS user,
           json_extract(v.raw, '$.source.ip') AS ip
    FROM event_versions v
    JOIN events e ON e.id = v.event_id
    JOIN instances i ON i.id = e.instance_id
    WHERE e.action IN ('user.login', 'user.login.ghost')
      AND (:instance IS NULL OR i.name = :instance)
      AND (:since IS NULL OR v.creation_epoch >= :since) AND (:until IS NULL OR v.creation_epoch < :until)
      AND (:ip IS NULL OR json_extract(v.raw, '$.source.ip') = :ip)
      AND (:user IS NULL OR :user IN (json_extract(v.raw, '$.source.username'), json_extract(v.raw, '$.source.userId'),
                                      json_extract(v.raw, '$.source.mailboxId'), json_extract(v.raw, '$.data.userId'),
                                      json_extract(v.raw, '$.data.user.id'), json_extract(v.raw, '$.data.user.username'),
                                      json_extract(v.raw, '$.data.user.email')))
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
