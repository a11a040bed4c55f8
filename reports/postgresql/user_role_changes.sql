-- PostgreSQL dialect of the archive's view user_role_changes (schema/0010_user_role_lookups.sql): every
-- user.add, user.update and user.remove (the event's current version) with the user's role before and
-- after it, per archive, the columns named as in the archive (camelCase, quoted). Created by push as
-- cloudron_audit.user_role_changes; user-changes, privileges and the readable events of 'events --from' read
-- it. Same rows as SQLite's: the role before is the last role known before the change, a state being
-- any version of a user.* event with a user object, ordered by time then version id.
SELECT archive_id, time, seq, "instanceId", action, actor, ip, "userId", username, email, "roleBefore", "roleAfter",
       CASE "roleBefore" WHEN 'owner' THEN 3 WHEN 'admin' THEN 2 WHEN 'usermanager' THEN 1 WHEN 'mailmanager' THEN 1 ELSE 0 END AS "rankBefore",
       CASE "roleAfter" WHEN 'owner' THEN 3 WHEN 'admin' THEN 2 WHEN 'usermanager' THEN 1 WHEN 'mailmanager' THEN 1 ELSE 0 END AS "rankAfter",
       "adminStatusChanged", "previousSeq", "eventId"
FROM (
    SELECT archive_id, time, seq, "instanceId", action, actor, ip, "userId", username, email, "adminStatusChanged", "previousSeq", "eventId",
           CASE WHEN action = 'user.add' THEN NULL
                WHEN action = 'user.remove' THEN COALESCE(role, "earlierRole") ELSE "earlierRole" END AS "roleBefore",
           CASE WHEN action = 'user.remove' THEN NULL ELSE role END AS "roleAfter"
    FROM (
        SELECT f.archive_id, f.creation_epoch AS time, f.version_id AS seq, f.instance_id AS "instanceId", f.action AS action,
               f.actor_name AS actor, f.ip AS ip, f.user_id AS "userId", f.user_name AS username, f.user_email AS email,
               f.user_role AS role, f.admin_status_changed AS "adminStatusChanged", e.api_id AS "eventId",
               (SELECT s.user_role FROM event_fields s
                WHERE s.archive_id = f.archive_id AND s.user_object = 1 AND s.instance_id = f.instance_id
                  AND s.user_id IS NOT DISTINCT FROM f.user_id
                  AND (s.creation_epoch, s.version_id) < (f.creation_epoch, f.version_id)
                  AND s.action LIKE 'user.%' AND s.user_role IS NOT NULL
                ORDER BY s.creation_epoch DESC, s.version_id DESC LIMIT 1) AS "earlierRole",
               (SELECT s.version_id FROM event_fields s
                WHERE s.archive_id = f.archive_id AND s.user_object = 1 AND s.instance_id = f.instance_id
                  AND s.user_id IS NOT DISTINCT FROM f.user_id
                  AND (s.creation_epoch, s.version_id) < (f.creation_epoch, f.version_id)
                  AND s.action LIKE 'user.%'
                ORDER BY s.creation_epoch DESC, s.version_id DESC LIMIT 1) AS "previousSeq"
        FROM event_fields f
        JOIN events e ON e.archive_id = f.archive_id AND e.id = f.event_id AND e.version = f.version
        WHERE f.action IN ('user.add', 'user.update', 'user.remove') AND f.user_object = 1
    ) AS states
) AS roles
