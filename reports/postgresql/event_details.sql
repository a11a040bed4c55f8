-- PostgreSQL only (the SQLite texts join the tables themselves): every event version with the fields reports
-- read (event_fields, the same column names), whether it is its event's current version, its event's api id,
-- its raw JSON and its instance's name; the join that admin-changes, support-access, app-lifecycle and oom
-- share, written once. `users` holds what a --user matches, in the order SQLite's texts test them: the
-- version's extracted names and ids, then the id and email of a user object in its data; a report writes
-- `(:user IS NULL OR :user = ANY(f.users))`. Created by push as cloudron_audit.event_details; `report --from`
-- puts it in front of a statement that reads it as a WITH clause, as user_role_changes.
SELECT f.archive_id, f.version_id, f.event_id, f.version = e.version AS is_current, f.instance_id, i.name AS instance,
       f.action, f.creation_epoch, f.actor_name, f.actor_id, f.ip, f.mailbox_id, f.user_id, f.user_name,
       f.app_id, f.app_name, f.success, f.error_message, e.api_id, j.raw,
       ARRAY[f.actor_name, f.actor_id, f.mailbox_id, f.user_id, f.user_name,
             j.raw #>> '{data,user,id}', j.raw #>> '{data,user,email}'] AS users
FROM event_fields f
JOIN events e ON e.archive_id = f.archive_id AND e.id = f.event_id
JOIN event_versions v ON v.archive_id = f.archive_id AND v.id = f.version_id
CROSS JOIN LATERAL (SELECT v.raw::json AS raw) j
JOIN instances i ON i.archive_id = f.archive_id AND i.id = f.instance_id
