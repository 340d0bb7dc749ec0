-- Each worker's home grid: the current version's grid that names them.
SELECT w.id AS worker_id, w.code AS worker_code, g.id AS grid_id, g.code AS grid_code
FROM grid_worker w
LEFT JOIN grid g
  ON g.worker_id = w.id
 AND g.version_id = (SELECT id FROM grid_version WHERE is_current)
ORDER BY w.id;
