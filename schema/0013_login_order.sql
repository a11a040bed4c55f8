-- cloudron-audit archive, schema version 13.
--
-- The logins report's actions in the order it prints them, time then version id: SQLite walks this index forward or backward instead of sorting the window's rows in a temporary
-- B-tree (the action index holds them action by action, four ranges that no walk merges in time order). It
-- also holds what the logins summary reads of each login (instance, action, IP and the three columns that
-- name the user), so the summary reads the window as one range of this index and no table row.
-- A query uses it only where its WHERE clause repeats the action list word for word.
CREATE INDEX IF NOT EXISTS event_fields_logins ON event_fields(creation_epoch, version_id, instance_id, action, ip, user_name, actor_name, mailbox_id)
    WHERE action IN ('user.login', 'user.login.ghost', 'user.logout', 'app.login');
