-- The on-duty workers an event has a claim on, whatever their distance: the
-- worker of its own current grid (:grid) and the workers of the current grids
-- in its area (:area, the community or else the street it was located by; a
-- grid is in the area when its point-on-surface is). This is who an event
-- located only by an area goes to, rather than whoever is nearest the area's
-- centre.
-- A position is used only when fresh (sent no longer than :max_age_s seconds
-- ago; any age when NULL): otherwise lon/lat/straight_m are NULL and
-- position_known is false. straight_m needs the event's point (:lon, :lat).
-- Own grid first, then known positions by distance, then the rest by code.
WITH cur AS (SELECT id FROM grid_version WHERE is_current),
area AS (SELECT a.geom FROM admin_area a WHERE a.id = CAST(:area AS integer)),
staff AS (
    SELECT g.worker_id, coalesce(bool_or(g.id = CAST(:grid AS integer)), false) AS own
    FROM grid g
    WHERE g.version_id = (SELECT id FROM cur) AND g.worker_id IS NOT NULL
      AND (g.id = CAST(:grid AS integer)
           OR EXISTS (SELECT 1 FROM area WHERE ST_Covers(area.geom, ST_PointOnSurface(g.geom))))
    GROUP BY g.worker_id
),
seen AS (
    SELECT w.id, w.code, w.name, staff.own,
           CASE WHEN w.geom IS NOT NULL
                 AND (CAST(:max_age_s AS float8) IS NULL
                      OR w.updated_at >= now() - make_interval(secs => CAST(:max_age_s AS float8)))
                THEN w.geom END AS geom
    FROM staff JOIN grid_worker w ON w.id = staff.worker_id
    WHERE w.status = 'on_duty'
)
SELECT seen.id, seen.code, seen.name, seen.own, seen.geom IS NOT NULL AS position_known,
       ST_X(seen.geom) AS lon, ST_Y(seen.geom) AS lat,
       ST_Distance(seen.geom::geography,
                   ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)::geography)
           AS straight_m
FROM seen
ORDER BY seen.own DESC, seen.geom IS NULL, straight_m NULLS LAST, seen.code;
