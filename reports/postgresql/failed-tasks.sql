-- PostgreSQL dialect of reports/failed-tasks.sql (the header is there). See reports/README.md.
SELECT t.archive_id, t.api_id AS id, t.type AS type, t.creation_epoch AS created, t.percent AS percent,
       CASE WHEN t.error_message <> '' OR t.success = 0 THEN 'error' ELSE 'stuck' END AS status,
       NULLIF(t.error_message, '') AS errorMessage, NULLIF(t.message, '') AS message, i.name AS instance
FROM tasks t
JOIN instances i ON i.archive_id = t.archive_id AND i.id = t.instance_id
WHERE (t.error_message <> '' OR t.success = 0
       OR (t.active = 0 AND COALESCE(t.pending, 0) = 0 AND t.percent < 100 AND t.success IS DISTINCT FROM 1))
  AND (:archive IS NULL OR t.archive_id = :archive)
  AND (:instance IS NULL OR i.name = :instance)
  AND t.creation_epoch >= COALESCE(:since, -9223372036854775808) AND t.creation_epoch < COALESCE(:until, 9223372036854775807)
  AND (:result IS NULL OR :result = CASE WHEN t.error_message <> '' OR t.success = 0 THEN 'error' ELSE 'stuck' END)
ORDER BY t.creation_epoch * :direction, t.id * :direction, t.archive_id
LIMIT NULLIF(:limit, -1)
