-- Where is everyone: every grid worker with their last position and status,
-- their home grid in the current version, the event they are on (if any) and
-- whether their phone has gone quiet for longer than :stale_s seconds; only
-- the workers the key sees (api.access: the :see_* parameters).
SELECT w.id, w.code, w.name, w.status, w.updated_at,
       ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat,
       g.id AS grid_id, g.code AS grid_code,
       a.event_id, e.code AS event_code,
       (w.updated_at IS NULL OR w.updated_at < now() - make_interval(secs => :stale_s)) AS stale
FROM grid_worker w
LEFT JOIN grid g ON g.worker_id = w.id AND g.version_id = (SELECT id FROM grid_version WHERE is_current)
LEFT JOIN LATERAL (
    SELECT event_id FROM assignment
    WHERE worker_id = w.id AND released_at IS NULL
    ORDER BY assigned_at DESC LIMIT 1
) a ON true
LEFT JOIN event e ON e.id = a.event_id
WHERE (CAST(:status AS text) IS NULL OR w.status = :status)
  AND (CAST(:code AS text) IS NULL OR w.code = :code)
  AND /* sees workers w */
ORDER BY w.code;
