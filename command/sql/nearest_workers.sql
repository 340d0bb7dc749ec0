-- On-duty workers nearest to (:lon, :lat) whose position is fresh: sent no
-- longer than :max_age_s seconds ago (any age when NULL; a worker who never
-- sent a fix has no age and is left out unless it is NULL). A stale position
-- says where someone was, not where they are, so it ranks nobody.
-- The GiST index answers the KNN (<->, in degrees) for a pool a few times
-- larger than asked; the pool is then ranked by true metres (geography), which
-- degrees distort by latitude. The point is written out in the ORDER BY (not
-- taken from a joined row) so that the planner can use the index for the ordering.
WITH pool AS (
    SELECT w.id, w.code, w.name, w.geom
    FROM grid_worker w
    WHERE w.status = 'on_duty' AND w.geom IS NOT NULL
      AND (CAST(:max_age_s AS float8) IS NULL
           OR w.updated_at >= now() - make_interval(secs => CAST(:max_age_s AS float8)))
    ORDER BY w.geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
    LIMIT :pool
)
SELECT pool.id, pool.code, pool.name, ST_X(pool.geom) AS lon, ST_Y(pool.geom) AS lat,
       ST_Distance(pool.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS straight_m
FROM pool
ORDER BY straight_m, pool.id
LIMIT :limit;
