-- title: Privileges
-- description: Who gained or lost admin or owner rights, when, and by whom: users created as admin or owner, promoted to admin or owner, demoted from it, and admins or owners removed. The role before comes from the archive's earlier events of that user (logins and user changes); where the archive holds none, the server's adminStatusChanged says whether admin status changed.
-- columns: time:time, instance, user, userId, change, roleBefore, roleAfter, by, ip, action, eventId
-- filters: since, until, instance, user, ip
SELECT time, i.name AS instance, username AS user, userId,
       CASE WHEN rankAfter >= 2 THEN 'gained' ELSE 'lost' END AS change,
       roleBefore, roleAfter, actor AS "by", ip, action, eventId
FROM user_role_changes c JOIN instances i ON i.id = c.instanceId
WHERE (:instance IS NULL OR i.name = :instance)
  AND (CASE WHEN action = 'user.update' AND roleBefore IS NULL THEN adminStatusChanged = 1
            ELSE (rankBefore >= 2) <> (rankAfter >= 2) END)
  AND time >= COALESCE(:since, -9223372036854775808) AND time < COALESCE(:until, 9223372036854775807)
  AND (:user IS NULL OR :user IN (userId, username, actor, email))
  AND (:ip IS NULL OR ip = :ip)
ORDER BY time * :direction, seq * :direction
LIMIT :limit
