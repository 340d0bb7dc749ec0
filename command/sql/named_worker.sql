-- A worker an operator names, whatever their status (booking checks that), with
-- the distance to the event's point when their position is fresh (see
-- nearest_workers.sql) and whether they staff the event's own grid.
SELECT w.id, w.code, w.name,
       coalesce(w.geom IS NOT NULL AND (CAST(:max_age_s AS float8) IS NULL
            OR w.updated_at >= now() - make_interval(secs => CAST(:max_age_s AS float8))), false) AS position_known,
       ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat,
       ST_Distance(w.geom::geography,
                   ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)::geography)
           AS straight_m,
       EXISTS (SELECT 1 FROM grid g WHERE g.id = CAST(:grid AS integer) AND g.worker_id = w.id) AS own
FROM grid_worker w WHERE w.id = :w;
