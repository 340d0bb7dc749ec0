-- Candidate hand-overs of workers from the grids of :old_version to those of
-- :new_version, by shared area (largest first); the caller picks one grid per
-- worker and one worker per grid.
SELECT n.id AS new_grid_id, o.worker_id, ST_Area(ST_Intersection(n.geom, o.geom)::geography) AS shared_m2
FROM grid n
JOIN grid o
  ON o.version_id = :old_version
 AND o.worker_id IS NOT NULL
 AND ST_Intersects(n.geom, o.geom)
WHERE n.version_id = :new_version
ORDER BY shared_m2 DESC, n.id, o.worker_id;
