-- PostgreSQL dialect of reports/privileges.sql (the header is there). See reports/README.md.
SELECT c.archive_id, time, i.name AS instance, username AS "user", "userId",
       CASE WHEN "rankAfter" >= 2 THEN 'gained' ELSE 'lost' END AS change,
       "roleBefore", "roleAfter", actor AS "by", ip, action, "eventId"
FROM user_role_changes c JOIN instances i ON i.archive_id = c.archive_id AND i.id = c."instanceId"
WHERE (:archive IS NULL OR c.archive_id = :archive)
  AND (:instance IS NULL OR i.name = :instance)
  AND (CASE WHEN action = 'user.update' AND "roleBefore" IS NULL THEN "adminStatusChanged" = 1
            ELSE ("rankBefore" >= 2) <> ("rankAfter" >= 2) END)
  AND time >= COALESCE(:since, -9223372036854775808) AND time < COALESCE(:until, 9223372036854775807)
  AND (:user IS NULL OR :user IN ("userId", username, actor, email))
  AND (:ip IS NULL OR ip = :ip)
ORDER BY time * :direction, seq * :direction, c.archive_id
LIMIT NULLIF(:limit, -1)
