-- title: App lifecycle
-- description: Installs, configuration changes, updates (from and to version), uninstalls, clones, repairs, restores, imports, backups, starts, stops and restarts of apps: per app, who, when, and the result where the server reports one (the .finish events).
-- columns: time:time, instance, app, appId, action, actor, fromVersion, toVersion, result, eventId
-- filters: since, until, instance, user, app, ip
SELECT f.creation_epoch AS time, i.name AS instance,
       f.app_name AS app,
       f.app_id AS appId,
       f.action AS action,
       f.actor_name AS actor,
       json_extract(v.raw, '$.data.fromManifest.version') AS fromVersion,
       COALESCE(json_extract(v.raw, '$.data.toManifest.version'),
                CASE WHEN f.action = 'app.install' THEN json_extract(v.raw, '$.data.app.manifest.version') END) AS toVersion,
       CASE
           WHEN f.success = 1 THEN 'success'
           WHEN f.success = 0 THEN 'failed'
           WHEN COALESCE(f.error_message, '') <> '' THEN 'failed: ' || f.error_message
           WHEN f.action LIKE '%.finish' THEN 'success'
           ELSE ''
       END AS result,
       e.api_id AS eventId
FROM event_fields f
JOIN events e ON e.id = f.event_id AND e.version = f.version
JOIN event_versions v ON v.id = f.version_id
JOIN instances i ON i.id = f.instance_id
WHERE f.action IN ('app.install', 'app.configure', 'app.update', 'app.update.finish', 'app.uninstall', 'app.clone',
                   'app.repair', 'app.restore', 'app.import', 'app.backup', 'app.backup.finish', 'app.start',
                   'app.stop', 'app.restart')
  AND (:instance IS NULL OR i.name = :instance)
  AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
  AND (:user IS NULL OR :user IN (f.actor_name, f.actor_id, f.mailbox_id, f.user_id, f.user_name)
       OR EXISTS (SELECT 1 FROM event_versions x WHERE x.id = f.version_id
                  AND :user IN (json_extract(x.raw, '$.data.user.id'), json_extract(x.raw, '$.data.user.email'))))
  AND (:ip IS NULL OR f.ip = :ip)
  AND (:app IS NULL OR :app IN (json_extract(v.raw, '$.data.appId'), json_extract(v.raw, '$.data.app.id'),
                                json_extract(v.raw, '$.data.app.subdomain'), json_extract(v.raw, '$.data.app.location'),
                                json_extract(v.raw, '$.data.app.fqdn')))
ORDER BY f.creation_epoch * :direction, f.event_id * :direction
LIMIT :limit
