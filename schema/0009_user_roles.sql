-- cloudron-audit archive, schema version 9.
--
-- The user fields that `user-changes` and `privileges` read, extracted at ingest like those of 0007
-- (Sources/Archiver/ExtractedColumns.swift; this migration's fill step computes them for the versions
-- already archived, `verify` recomputes them), and the users' role history both reports are built on.
ALTER TABLE event_fields ADD COLUMN user_email TEXT;             -- data.user.email
ALTER TABLE event_fields ADD COLUMN user_role TEXT;              -- data.user.role, else data.user.admin (servers before roles, 2019): 'admin' or 'user'
ALTER TABLE event_fields ADD COLUMN user_object INTEGER;         -- 1 when data.user is an object, NULL otherwise
ALTER TABLE event_fields ADD COLUMN admin_status_changed INTEGER; -- data.adminStatusChanged: 1 true, 0 false, NULL otherwise

-- Every user.add, user.update and user.remove (the event's current version) with the user's role
-- before and after it. The role before comes from the archive's earlier events of that user that carry
-- the user object (logins included): the last role known up to the event, since a ghost login's user
-- object has none. Ranks order the roles (owner 3, admin 2, user or mail manager 1, user 0).
-- previousSeq is the version id of that user's previous state (for the fields that changed), NULL for
-- the first. One definition for both reports (reports/user-changes.sql, reports/privileges.sql).
CREATE VIEW user_role_changes AS
WITH states AS (
    SELECT f.creation_epoch AS time, f.version_id AS seq, f.instance_id AS instanceId, f.action AS action,
           f.version = e.version AS isCurrent, f.actor_name AS actor, f.ip AS ip, f.user_id AS userId,
           f.user_name AS username, f.user_email AS email, f.user_role AS role,
           f.admin_status_changed AS adminStatusChanged, e.api_id AS eventId
    FROM event_fields f JOIN events e ON e.id = f.event_id
    WHERE f.action GLOB 'user.*' AND f.user_object = 1
),
-- Window functions, since SQLite's LAG cannot skip NULLs: a run is a known role and the states after it
-- that carry none.
known AS (
    SELECT *, FIRST_VALUE(role) OVER (PARTITION BY instanceId, userId, roleRun ORDER BY time, seq) AS knownRole
    FROM (SELECT *, COUNT(role) OVER (PARTITION BY instanceId, userId ORDER BY time, seq ROWS UNBOUNDED PRECEDING) AS roleRun
          FROM states)
),
changes AS (
    SELECT *,
           LAG(seq) OVER (PARTITION BY instanceId, userId ORDER BY time, seq) AS previousSeq,
           LAG(knownRole) OVER (PARTITION BY instanceId, userId ORDER BY time, seq) AS earlierRole
    FROM known
),
roles AS (
    SELECT *,
           CASE WHEN action = 'user.add' THEN NULL
                WHEN action = 'user.remove' THEN COALESCE(role, earlierRole) ELSE earlierRole END AS roleBefore,
           CASE WHEN action = 'user.remove' THEN NULL ELSE role END AS roleAfter
    FROM changes
    WHERE action IN ('user.add', 'user.update', 'user.remove') AND isCurrent
)
SELECT time, seq, instanceId, action, actor, ip, userId, username, email, roleBefore, roleAfter,
       CASE roleBefore WHEN 'owner' THEN 3 WHEN 'admin' THEN 2 WHEN 'usermanager' THEN 1 WHEN 'mailmanager' THEN 1 ELSE 0 END AS rankBefore,
       CASE roleAfter WHEN 'owner' THEN 3 WHEN 'admin' THEN 2 WHEN 'usermanager' THEN 1 WHEN 'mailmanager' THEN 1 ELSE 0 END AS rankAfter,
       adminStatusChanged, previousSeq, eventId
FROM roles;
