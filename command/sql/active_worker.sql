-- The event's earliest active (unreleased) worker assignment, with the worker:
-- what a repeated 一键派遣 answers instead of sending a second worker.
SELECT a.id AS assignment_id, w.id, w.code, w.name, ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat,
       a.straight_m, a.network_m,
       EXISTS (SELECT 1 FROM grid g WHERE g.id = CAST(:grid AS integer) AND g.worker_id = w.id) AS own
FROM assignment a JOIN grid_worker w ON w.id = a.worker_id
WHERE a.event_id = :e AND a.kind = 'worker' AND a.released_at IS NULL
ORDER BY a.assigned_at, a.id
LIMIT 1;
