-- cloudron-audit archive, schema version 15.
--
-- oom, backups, user-changes and privileges read their window's entries of small indexes instead of rows of
-- the big tables (event_fields, events, event_versions), whose pages a report of a month otherwise reads nearly
-- all of for the window (a few of its events on each page; at ten million events a month is a gigabyte of pages,
-- of which the machine caches only part), and oom no longer reads raw JSON. Each index holds every column its
-- report reads ("covering"), and is partial, over the report's actions: a query uses one only where its WHERE
-- clause repeats the index's action list word for word. The reports that rely on each are named with it.
--
-- What oom reports of an app.oom (Sources/Archiver/ExtractedColumns.swift; extracted at ingest, filled below for
-- the app.oom versions archived before, recomputed by `verify`); NULL in the rows of every other action.
ALTER TABLE event_fields ADD COLUMN oom_addon INTEGER;  -- 1 when data.addon is an object (the victim is an addon), NULL otherwise
ALTER TABLE event_fields ADD COLUMN oom_victim TEXT;    -- data.addon.name, data.app.fqdn, data.app.subdomain, data.app.location, data.containerId
ALTER TABLE event_fields ADD COLUMN oom_app_id TEXT;    -- data.app.id
-- (the fill step runs here)

-- Whether a version is its event's current one, without the events row: a version is current when no later
-- version of its event exists (ingest adds versions 2, 3, … and points the event at the last; `verify`
-- checks both). Only versions after the first are indexed: box rewrites few events, so the index is tiny
-- and a probe of it costs no read. Relied on by oom --summary and backups:
--     NOT EXISTS (SELECT 1 FROM event_fields l WHERE l.version > 1 AND l.event_id = f.event_id AND l.version > f.version)
-- (the term `l.version > 1` written word for word, or SQLite does not use a partial index).
CREATE INDEX IF NOT EXISTS event_fields_later_versions ON event_fields(event_id, version) WHERE version > 1;

-- oom: the window's kills, with their event's id and current version from the events side; then the kill's fields
-- at that version, found by the whole key (time, instance, event, version). The action leads both keys, like
-- events_by_action's and event_fields_by_action's, so that SQLite prefers these where both serve.
CREATE INDEX IF NOT EXISTS events_ooms ON events(action, creation_epoch, instance_id, id, version, api_id)
    WHERE action = 'app.oom';
CREATE INDEX IF NOT EXISTS event_fields_ooms
    ON event_fields(action, creation_epoch, instance_id, event_id, version, oom_addon, oom_victim, oom_app_id)
    WHERE action = 'app.oom';

-- backups: the window's starts, and (replacing 0012's indexes of the same names, which stopped at the action)
-- each start's next start and finish of its task or app with the finish's outcome.
CREATE INDEX IF NOT EXISTS event_fields_backup_starts
    ON event_fields(action, creation_epoch, instance_id, event_id, version, task_id, app_id, app_name)
    WHERE action IN ('backup.start', 'app.backup');
DROP INDEX IF EXISTS event_fields_backup_tasks;
CREATE INDEX event_fields_backup_tasks
    ON event_fields(instance_id, task_id, creation_epoch, event_id, action, version, error_message, backup_id, app_id)
    WHERE action IN ('backup.start', 'backup.finish');
DROP INDEX IF EXISTS event_fields_app_backups;
CREATE INDEX event_fields_app_backups
    ON event_fields(instance_id, app_id, creation_epoch, event_id, action, version, error_message, backup_id)
    WHERE action IN ('app.backup', 'app.backup.finish');

-- user-changes and privileges: the window's user.add, user.update and user.remove events and their fields, in the
-- same two steps as oom's; and (replacing 0010's index of the same name) each change's lookups of the user's
-- previous state and last known role read the role and action from the index.
CREATE INDEX IF NOT EXISTS events_user_changes ON events(action, creation_epoch, instance_id, id, version, api_id)
    WHERE action IN ('user.add', 'user.update', 'user.remove');
CREATE INDEX IF NOT EXISTS event_fields_user_changes
    ON event_fields(action, creation_epoch, instance_id, event_id, version, user_object, actor_name, ip, user_id, user_name,
                    user_email, user_role, admin_status_changed)
    WHERE action IN ('user.add', 'user.update', 'user.remove');
DROP INDEX IF EXISTS event_fields_user_states;
CREATE INDEX event_fields_user_states ON event_fields(instance_id, user_id, creation_epoch, version_id, action, user_role, user_object)
    WHERE user_object = 1;

-- 0010's view, the same rows, read through those indexes: the events side first (CROSS JOIN keeps that order), and
-- the time a unary plus away from the fields' time, so that SQLite does not copy the window onto the fields'
-- lookup (which would make it a range scan per change instead of a probe). An event's time is that of its
-- current version (both derive from it; `verify` checks both).
DROP VIEW user_role_changes;
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
        SELECT e.creation_epoch AS time, f.version_id AS seq, e.instance_id AS instanceId, e.action AS action,
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
        FROM events e
        CROSS JOIN event_fields f
            ON f.action IN ('user.add', 'user.update', 'user.remove') AND f.action = e.action AND f.creation_epoch = +e.creation_epoch
               AND f.instance_id = e.instance_id AND f.event_id = e.id AND f.version = e.version
        WHERE e.action IN ('user.add', 'user.update', 'user.remove') AND f.user_object = 1
    )
);
