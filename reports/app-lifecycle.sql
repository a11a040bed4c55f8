-- title: App lifecycle
-- description: Installs, configuration changes, updates (from and to version), uninstalls, clones, repairs, restores, imports, backups, starts, stops and restarts of apps: per app, who, when, and the result where the server reports one (the .finish events).
-- columns: time:time, instance, app, appId, action, actor, fromVersion, toVersion, result, eventId
-- filters: since, until, instance, user, app, ip
SELECT e.creation_epoch AS time, i.name AS instance,
       COALESCE(json_extract(v.raw, '$.data.app.fqdn'), json_extract(v.raw, '$.data.newApp.fqdn'),
                json_extract(v.raw, '$.data.app.subdomain'), json_extract(v.raw, '$.data.app.location')) AS app,
       COALESCE(json_extract(v.raw, '$.data.appId'), json_extract(v.raw, '$.data.app.id')) AS appId,
       e.action AS action,
       json_extract(v.raw, '$.source.username') AS actor,
       json_extract(v.raw, '$.data.fromManifest.version') AS fromVersion,
       COALESCE(json_extract(v.raw, '$.data.toManifest.version'),
                CASE WHEN e.action = 'app.install' THEN json_extract(v.raw, '$.data.app.manifest.version') END) AS toVersion,
       CASE
           WHEN json_type(v.raw, '$.data.success') = 'true' THEN 'success'
           WHEN json_type(v.raw, '$.data.success') = 'false' THEN 'failed'
           WHEN COALESCE(json_extract(v.raw, '$.data.errorMessage'), '') <> '' THEN 'failed: ' || json_extract(v.raw, '$.data.errorMessage')
           WHEN e.action LIKE '%.finish' THEN 'success'
           ELSE ''
       END AS result,
       e.api_id AS eventId
FROM events e
JOIN event_versions v ON v.event_id = e.id AND v.version = e.version
JOIN instances i ON i.id = e.instance_id
WHERE e.action IN ('app.install', 'app.configure', 'app.update', 'app.update.finish', 'app.uninstall', 'app.clone',
                   'app.repair', 'app.restore', 'app.import', 'app.backup', 'app.backup.finish', 'app.start',
                   'app.stop', 'app.restart')
  AND (:instance IS NULL OR i.name = :instance)
  AND (:since IS NULL OR e.creation_epoch >= :since) AND (:until IS NULL OR e.creation_epoch < :until)
  AND (:user IS NULL OR :user IN (json_extract(v.raw, '$.source.username'), json_extract(v.raw, '$.source.userId'),
                                json_extract(v.raw, '$.source.mailboxId'), json_extract(v.raw, '$.data.userId'),
                                json_extract(v.raw, '$.data.user.id'), json_extract(v.raw, '$.data.user.username'),
                                json_extract(v.raw, '$.data.user.email')))
  AND (:ip IS NULL OR json_extract(v.raw, '$.source.ip') = :ip)
  AND (:app IS NULL OR :app IN (json_extract(v.raw, '$.data.appId'), json_extract(v.raw, '$.data.app.id'),
                                json_extract(v.raw, '$.data.app.subdomain'), json_extract(v.raw, '$.data.app.location'),
                                json_extract(v.raw, '$.data.app.fqdn')))
ORDER BY e.creation_epoch * :direction, e.id * :direction
LIMIT :limit
