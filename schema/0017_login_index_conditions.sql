-- cloudron-audit archive, schema version 17.
--
-- The two indexes of logins (0012, 0013) with their action lists written as OR chains. SQLite evaluates a partial
-- index's condition for every row written to the table, and an `IN` of three or more constants by building a
-- temporary table of them, again for every INSERT: about 2 µs a row for each such condition (Benchmarks/NOTES.md).
-- The unary plus keeps the planner from turning the reports' copy of the condition into one lookup of the action
-- index per action (whose rows it would then have to sort); a query uses these indexes only where its WHERE clause
-- repeats the condition word for word (reports/logins.sql).
DROP INDEX IF EXISTS event_fields_logins;
CREATE INDEX event_fields_logins ON event_fields(creation_epoch, version_id, instance_id, action, ip, user_name, actor_name, mailbox_id)
    WHERE +action = 'user.login' OR +action = 'user.login.ghost' OR +action = 'user.logout' OR +action = 'app.login';
DROP INDEX IF EXISTS event_fields_login_ips;
CREATE INDEX event_fields_login_ips ON event_fields(ip, instance_id, creation_epoch)
    WHERE +action = 'user.login' OR +action = 'user.login.ghost' OR +action = 'app.login';
