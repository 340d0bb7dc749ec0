-- A page of the register, newest first (reported time, then id), optionally
-- within [:since, :until) of reported time; a department key sees only its
-- departments' events (:departments), a worker's phone only the events it
-- was sent to (:worker). NULL leaves a condition out.
SELECT e.id, e.code, e.channel, e.external_id, e.category_code, e.title, e.address, e.state, e.priority,
       e.department, e.grid_id, e.community_id, e.street_id, e.reported_at, e.deadline_at, e.closed_at,
       e.duplicate_of_id, e.duplicate_count, e.location_kind, e.supervision_level,
       ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat
FROM event e
WHERE (CAST(:since AS timestamptz) IS NULL OR e.reported_at >= CAST(:since AS timestamptz))
  AND (CAST(:until AS timestamptz) IS NULL OR e.reported_at < CAST(:until AS timestamptz))
  AND (CAST(:departments AS text[]) IS NULL OR e.department = ANY(CAST(:departments AS text[])))
  AND (CAST(:worker AS text) IS NULL OR EXISTS (
        SELECT 1 FROM assignment a JOIN grid_worker w ON w.id = a.worker_id
        WHERE a.event_id = e.id AND w.code = CAST(:worker AS text)))
ORDER BY e.reported_at DESC, e.id DESC
LIMIT :limit OFFSET :offset;
