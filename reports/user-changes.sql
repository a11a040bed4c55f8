-- title: User changes
-- description: Users added, updated and removed: who did it, whom, the role before and after (before: from the archive's earlier events of that user, logins included), and which fields changed since the archive last saw that user. Promotions to admin or owner, demotions from them, other role changes, users created as admin or owner and admins or owners removed are flagged.
-- columns: time:time, instance, action, actor, userId, username, roleBefore, roleAfter, changed, flag, eventId
-- filters: since, until, instance, user, ip
SELECT time, i.name AS instance, action, actor, userId, username, roleBefore, roleAfter,
       CASE WHEN action = 'user.update' AND previousSeq IS NOT NULL THEN
           -- The fields of the user object that differ from the user's previous state.
           (SELECT COALESCE((SELECT group_concat(key, ',') FROM (
                SELECT key FROM json_each(d.user)
                WHERE json_extract(d.previous, '$."' || key || '"') IS NOT json_extract(d.user, '$."' || key || '"')
                UNION
                SELECT key FROM json_each(d.previous) WHERE json_type(d.user, '$."' || key || '"') IS NULL
                ORDER BY key)), '')
            FROM (SELECT (SELECT json_extract(raw, '$.data.user') FROM event_versions WHERE id = c.seq) AS user,
                         (SELECT json_extract(raw, '$.data.user') FROM event_versions WHERE id = c.previousSeq) AS previous) d)
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
FROM user_role_changes c JOIN instances i ON i.id = c.instanceId
WHERE (:instance IS NULL OR i.name = :instance)
  AND time >= COALESCE(:since, -9223372036854775808) AND time < COALESCE(:until, 9223372036854775807)
  AND (:user IS NULL OR :user IN (userId, username, actor, email))
  AND (:ip IS NULL OR ip = :ip)
ORDER BY time * :direction, seq * :direction
LIMIT :limit
