-- cloudron-audit archive, schema version 12.
--
-- Indexes through which a report of a window looks up, for each of the window's rows, the one earlier or
-- later event it pairs with, instead of pairing every such event of the archive with window functions
-- (which SQLite cannot narrow to the window: a report of a day read the whole history). Each is partial,
-- over the few actions it serves, and holds the action so that a lookup reads no table row it does not
-- return. A query uses one only where its WHERE clause repeats the index's action list word for word.
-- IF NOT EXISTS: an archive brought back to an earlier schema by hand (as the upgrade tests do) keeps them.
--
-- backups: the next start and the first finish of a full backup's task, and of an app backup's app.
CREATE INDEX IF NOT EXISTS event_fields_backup_tasks ON event_fields(instance_id, task_id, creation_epoch, event_id, action)
    WHERE action IN ('backup.start', 'backup.finish');
CREATE INDEX IF NOT EXISTS event_fields_app_backups ON event_fields(instance_id, app_id, creation_epoch, event_id, action)
    WHERE action IN ('app.backup', 'app.backup.finish');
-- app-availability: an app.down's previous health event of its app (does it start an outage?) and its next app.up.
CREATE INDEX IF NOT EXISTS event_fields_app_health ON event_fields(instance_id, app_id, creation_epoch, event_id, action)
    WHERE action IN ('app.down', 'app.up');
-- logins --summary: whether a user logged in from an IP before the window (is the IP new?).
CREATE INDEX IF NOT EXISTS event_fields_login_ips ON event_fields(ip, instance_id, creation_epoch)
    WHERE action IN ('user.login', 'user.login.ghost', 'app.login');
