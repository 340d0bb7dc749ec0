-- Put every building into the grid of :version_id that covers a point on its
-- footprint (a building is never split, so one point decides), NULL if none.
UPDATE building b
SET grid_id = hit.grid_id
FROM (
    SELECT DISTINCT ON (b2.id) b2.id, g.id AS grid_id
    FROM building b2
    LEFT JOIN grid g
        ON g.version_id = :version_id
       AND ST_Covers(g.geom, ST_PointOnSurface(b2.geom))
    ORDER BY b2.id, g.id
) AS hit
WHERE b.id = hit.id
  AND b.grid_id IS DISTINCT FROM hit.grid_id;
