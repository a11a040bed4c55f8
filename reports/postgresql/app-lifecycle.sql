-- PostgreSQL dialect of reports/app-lifecycle.sql (the header is there). See reports/README.md.
SELECT f.archive_id, f.creation_epoch AS time, f.instance,
       f.app_name AS app,
       f.app_id AS appId,
       f.action AS action,
       f.actor_name AS actor,
       f.raw #>> '{data,fromManifest,version}' AS fromVersion,
       COALESCE(f.raw #>> '{data,toManifest,version}',
                CASE WHEN f.action = 'app.install' THEN f.raw #>> '{data,app,manifest,version}' END) AS toVersion,
       CASE
           WHEN f.success = 1 THEN 'success'
           WHEN f.success = 0 THEN 'failed'
           WHEN COALESCE(f.error_message, '') <> '' THEN 'failed: ' || f.error_message
           -- ILIKE: SQLite's LIKE ignores ASCII case.
           WHEN f.action ILIKE '%.finish' THEN 'success'
           ELSE ''
       END AS result,
       f.api_id AS eventId
FROM event_details f
WHERE f.action IN ('app.install', 'app.configure', 'app.update', 'app.update.finish', 'app.uninstall', 'app.clone',
                   'app.repair', 'app.restore', 'app.import', 'app.backup', 'app.backup.finish', 'app.start',
                   'app.stop', 'app.restart')
  AND f.is_current
  AND (:archive IS NULL OR f.archive_id = :archive)
  AND (:instance IS NULL OR f.instance = :instance)
  AND f.creation_epoch >= COALESCE(:since, -9223372036854775808) AND f.creation_epoch < COALESCE(:until, 9223372036854775807)
  AND (:user IS NULL OR :user = ANY(f.users))
  AND (:ip IS NULL OR f.ip = :ip)
  AND (:app IS NULL OR :app IN (f.raw #>> '{data,appId}', f.raw #>> '{data,app,id}',
                                f.raw #>> '{data,app,subdomain}', f.raw #>> '{data,app,location}',
                                f.raw #>> '{data,app,fqdn}'))
ORDER BY f.creation_epoch * :direction, f.event_id * :direction, f.archive_id
LIMIT NULLIF(:limit, -1)
