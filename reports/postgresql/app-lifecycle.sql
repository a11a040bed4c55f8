-- PostgreSQL dialect of reports/app-lifecycle.sql (the header is there). See reports/README.md.
SELECT f.archive_id, f.creation_epoch AS time, i.name AS instance,
       f.app_name AS app,
       f.app_id AS appId,
       f.action AS action,
       f.actor_name AS actor,
       j.raw #>> '{data,fromManifest,version}' AS fromVersion,
       COALESCE(j.raw #>> '{data,toManifest,version}',
                CASE WHEN f.action = 'app.install' THEN j.raw #>> '{data,app,manifest,version}' END) AS toVersion,
       CASE
           WHEN f.success = 1 THEN 'success'
           WHEN f.success = 0 THEN 'failed'
           WHEN COALESCE(f.error_message, '') <> '' THEN 'failed: ' || f.error_message
           -- ILIKE: SQLite's LIKE ignores ASCII case.
           WHEN f.action ILIKE '%.finish' THEN 'success'
           ELSE ''
       END AS result,
       e.api_id AS eventId
FROM event_fields f
JOIN events e ON e.archive_id = f.archive_id AND e.id = f.event_id AND e.version = f.version
JOIN event_versions v ON v.archive_id = f.archive_id AND v.id = f.version_id
CROSS JOIN LATERAL (SELECT v.raw::json AS raw) j
JOIN instances i ON i.archive_id = f.archive_id AND i.id = f.instance_id
WHERE f.action IN ('app.install', 'app.configure', 'app.update', 'app.update.finish', 'app.uninstall', 'app.clone',
                   'app.repair', 'app.restore', 'app.import', 'app.backup', 'app.backup.finish', 'app.start',
                   'app.stop', 'app.restart')
  AND (:archive IS NULL OR f.archive_id = :archive)
  AND (:instance IS NULL OR i.name = :instance)
  AND (:since IS NULL OR f.creation_epoch >= :since) AND (:until IS NULL OR f.creation_epoch < :until)
  AND (:user IS NULL OR :user IN (f.actor_name, f.actor_id, f.mailbox_id, f.user_id, f.user_name)
       OR EXISTS (SELECT 1 FROM event_versions x WHERE x.archive_id = f.archive_id AND x.id = f.version_id
                  AND :user IN (x.raw::json #>> '{data,user,id}', x.raw::json #>> '{data,user,email}')))
  AND (:ip IS NULL OR f.ip = :ip)
  AND (:app IS NULL OR :app IN (j.raw #>> '{data,appId}', j.raw #>> '{data,app,id}',
                                j.raw #>> '{data,app,subdomain}', j.raw #>> '{data,app,location}',
                                j.raw #>> '{data,app,fqdn}'))
ORDER BY f.creation_epoch * :direction, f.event_id * :direction, f.archive_id
LIMIT NULLIF(:limit, -1)
