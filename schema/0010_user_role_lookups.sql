-- cloudron-audit archive, schema version 10.
--
-- user_role_changes (0009) again, linear in the changes it reads: the role before each user.add, user.update
-- and user.remove, and that user's previous state, are each looked up through an index of the states that
-- carry a user object, instead of window functions over every such state of the archive (SQLite cannot push
-- a report's time window into those, so every report of a day ranked all of the archive's logins: 8 s of
-- CPU at a million events). Same rows: the role before is the last role known before the change, a state
-- being any version of a user.* event with a user object, ordered by time then version id.
DROP VIEW user_role_changes;

CREATE INDEX event_fields_user_states ON event_fields(instance_id, user_id, creation_epoch, version_id) WHERE user_object = 1;

CREATE VIEW user_role_changes AS
SELECT time, seq, instanceId, action, actor, ip, userId, username, email, roleBefore, roleAfter,
       CASE roleBefore WHEN 'owner' THEN 3 WHEN 'admin' THEN 2 WHEN 'usermanager' THEN 1 WHEN 'mailmanager' THEN 1 ELSE 0 END AS rankBefore,
       CASE roleAfter WHEN 'owner' THEN 3 WHEN 'admin' THEN 2 WHEN 'usermanager' THEN 1 WHEN 'mailmanager' THEN 1 ELSE 0 END AS rankAfter,
       adminStatusChanged, previousSeq, eventId
FROM (
    SELECT time, seq, instanceId, action, actor, ip, userId, username, email, adminStatusChanged, previousSeq, eventId,
           CASE WHEN action = 'user.add' THEN NULL
                WHEN action = 'user.remove' THEN COALESCE(role, earlierRole) ELSE earlierRole END AS roleBefore,
           CASE WHEN action = 'user.remove' THEN NULL ELSE role END AS roleAfter
    FROM (
        SELECT f.creation_epoch AS time, f.version_id AS seq, f.instance_id AS instanceId, f.action AS action,
               f.actor_name AS actor, f.ip AS ip, f.user_id AS userId, f.user_name AS username, f.user_email AS email,
               f.user_role AS role, f.admin_status_changed AS adminStatusChanged, e.api_id AS eventId,
               (SELECT s.user_role FROM event_fields s
                WHERE s.user_object = 1 AND s.instance_id = f.instance_id AND s.user_id IS f.user_id
                  AND (s.creation_epoch, s.version_id) < (f.creation_epoch, f.version_id)
                  AND s.action GLOB 'user.*' AND s.user_role IS NOT NULL
                ORDER BY s.creation_epoch DESC, s.version_id DESC LIMIT 1) AS earlierRole,
               (SELECT s.version_id FROM event_fields s
                WHERE s.user_object = 1 AND s.instance_id = f.instance_id AND s.user_id IS f.user_id
                  AND (s.creation_epoch, s.version_id) < (f.creation_epoch, f.version_id)
                  AND s.action GLOB 'user.*'
                ORDER BY s.creation_epoch DESC, s.version_id DESC LIMIT 1) AS previousSeq
        FROM event_fields f JOIN events e ON e.id = f.event_id AND e.version = f.version
        WHERE f.action IN ('user.add', 'user.update', 'user.remove') AND f.user_object = 1
    )
);
