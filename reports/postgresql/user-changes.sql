-- PostgreSQL dialect of reports/user-changes.sql (the header is there). See reports/README.md.
SELECT c.archive_id, time, i.name AS instance, action, actor, "userId", username, "roleBefore", "roleAfter",
       CASE WHEN action = 'user.update' AND "previousSeq" IS NOT NULL THEN
           -- The fields of the user object that differ from the user's previous state, compared as SQLite's
           -- json_extract values are (a JSON null and a missing member alike).
           (SELECT COALESCE((SELECT string_agg(changed.key, ',' ORDER BY changed.key COLLATE "C") FROM (
                SELECT u.key FROM jsonb_each(d."user") u
                WHERE NULLIF(d.previous -> u.key, 'null') IS DISTINCT FROM NULLIF(u.value, 'null')
                UNION
                SELECT p.key FROM jsonb_object_keys(d.previous) AS p(key) WHERE NOT (d."user" ? p.key)) AS changed), '')
            FROM (SELECT (SELECT raw::jsonb #> '{data,user}' FROM event_versions WHERE archive_id = c.archive_id AND id = c.seq) AS "user",
                         (SELECT raw::jsonb #> '{data,user}' FROM event_versions WHERE archive_id = c.archive_id AND id = c."previousSeq") AS previous) d)
       ELSE '' END AS changed,
       CASE
           WHEN action = 'user.add' AND "roleAfter" IN ('admin', 'owner') THEN 'created as ' || "roleAfter"
           WHEN action = 'user.remove' AND "roleBefore" IN ('admin', 'owner') THEN 'removed ' || "roleBefore"
           WHEN action = 'user.update' AND "roleBefore" IS NOT NULL AND "roleAfter" IS NOT NULL AND "roleBefore" <> "roleAfter" THEN
               CASE WHEN "rankAfter" > "rankBefore" AND "roleAfter" IN ('admin', 'owner') THEN 'promotion'
                    WHEN "rankAfter" < "rankBefore" AND "roleBefore" IN ('admin', 'owner') THEN 'demotion'
                    ELSE 'role change' END
           WHEN "adminStatusChanged" = 1 THEN 'admin status changed'
           ELSE ''
       END AS flag,
       "eventId"
FROM user_role_changes c JOIN instances i ON i.archive_id = c.archive_id AND i.id = c."instanceId"
WHERE (:archive IS NULL OR c.archive_id = :archive)
  AND (:instance IS NULL OR i.name = :instance)
  AND time >= COALESCE(:since, -9223372036854775808) AND time < COALESCE(:until, 9223372036854775807)
  AND (:user IS NULL OR :user IN ("userId", username, actor, email))
  AND (:ip IS NULL OR ip = :ip)
ORDER BY time * :direction, seq * :direction, c.archive_id
LIMIT NULLIF(:limit, -1)
